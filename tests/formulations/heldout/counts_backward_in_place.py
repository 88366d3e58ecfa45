"""counts_backward multiplies the upstream gradient in place (dcounts *= counts), so the values are right but an argument is modified."""

MODULE = "ex1_atomic"
WRONG = {"ex1.counts_backward": ("dnorm_logits",)}
DIAGNOSIS = {"ex1.counts_backward": {"dnorm_logits": "mutated_input"}}


def counts_backward(dcounts, counts):
    dcounts *= counts
    return dcounts
