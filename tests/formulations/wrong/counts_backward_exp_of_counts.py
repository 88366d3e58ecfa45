"""counts_backward uses exp(counts) instead of counts: the derivative of exp is evaluated at
the output rather than the input."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.counts_backward": ("dnorm_logits",),
}
DIAGNOSIS = {
    "ex1.counts_backward": {"dnorm_logits": "unknown"},
}


def counts_backward(dcounts, counts):
    return counts.exp() * dcounts
