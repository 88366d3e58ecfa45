"""probs_backward returning its two gradients as a list instead of a tuple, which the spec
accepts."""

MODULE = "ex1_atomic"
WRONG = {}


def probs_backward(dprobs, counts, counts_sum_inv):
    return [counts_sum_inv * dprobs, (counts * dprobs).sum(1, keepdim=True)]
