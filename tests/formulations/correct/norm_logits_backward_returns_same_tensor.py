"""norm_logits_backward returning dnorm_logits itself as dlogits (the local derivative is 1): a
returned tensor may be an argument as long as it is not modified."""

MODULE = "ex1_atomic"
WRONG = {}


def norm_logits_backward(dnorm_logits):
    return dnorm_logits, -dnorm_logits.sum(1, keepdim=True)
