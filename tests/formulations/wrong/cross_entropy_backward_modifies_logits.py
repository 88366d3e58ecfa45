"""cross_entropy_backward that exponentiates logits in place to save memory: the gradient is
right, but the caller's logits are overwritten, which the spec forbids."""

MODULE = "ex2_cross_entropy"
WRONG = {
    "ex2.cross_entropy_backward": ("dlogits",),
}
DIAGNOSIS = {
    "ex2.cross_entropy_backward": {"dlogits": "mutated_input"},
}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    logits -= logits.max(1, keepdim=True).values
    logits.exp_()
    dlogits = logits / logits.sum(1, keepdim=True)
    dlogits[range(n), Yb] -= 1
    return dlogits / n
