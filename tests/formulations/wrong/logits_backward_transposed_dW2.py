"""logits_backward computes dW2 = dlogits.T @ h, the transpose of the right answer: shape (V,
H) instead of (H, V)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.logits_backward": ("dW2",),
}
# Revised after review: first annotated wrong_shape, under a rule that put shapes before
# transposed; the values are exactly the answer transposed, which the transposed code names.
DIAGNOSIS = {
    "ex1.logits_backward": {"dW2": "transposed"},
}


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, dlogits.T @ h, dlogits.sum(0)
