"""logits_backward sums db2 with keepdim=True, shape (1, V), while b2 has shape (V,)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.logits_backward": ("db2",),
}
DIAGNOSIS = {
    "ex1.logits_backward": {"db2": "wrong_shape"},
}


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0, keepdim=True)
