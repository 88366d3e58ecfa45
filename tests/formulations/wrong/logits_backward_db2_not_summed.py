"""logits_backward returns db2 = dlogits without summing over the batch dimension that b2 was
broadcast along: shape (n, V) instead of (V,)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.logits_backward": ("db2",),
}
DIAGNOSIS = {
    "ex1.logits_backward": {"db2": "wrong_shape"},
}


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits
