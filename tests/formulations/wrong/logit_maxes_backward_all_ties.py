"""logit_maxes_backward sends the gradient to every entry equal to the row maximum; autograd
sends it to the one index max returns, so rows with exact ties are wrong."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.logit_maxes_backward": ("dlogits",),
}
DIAGNOSIS = {
    "ex1.logit_maxes_backward": {"dlogits": "localized"},
}


def logit_maxes_backward(dlogit_maxes, logits):
    return (logits == logits.max(1, keepdim=True).values).float() * dlogit_maxes
