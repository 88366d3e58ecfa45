"""logits_backward writes dh = dlogits @ W2 without transposing W2; (n, V) @ (H, V) raises since V != H, so the whole function fails."""

MODULE = "ex1_atomic"
WRONG = {"ex1.logits_backward": ("dh", "dW2", "db2")}
DIAGNOSIS = {"ex1.logits_backward": {"dh": "exception", "dW2": "exception", "db2": "exception"}}


def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2
