"""counts_sum_backward returning dcounts_sum.expand_as(counts), a stride-0 view of the argument
with the right shape and values."""

MODULE = "ex1_atomic"
WRONG = {}


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum.expand_as(counts)
