"""counts_sum_backward returns the (n, 1) upstream unbroadcast instead of spreading it over the
(n, V) shape of counts."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.counts_sum_backward": ("dcounts",),
}


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum * 1.0
