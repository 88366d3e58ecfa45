"""counts_sum_backward returns the (n, 1) upstream unbroadcast instead of spreading it over the
(n, V) shape of counts."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.counts_sum_backward": ("dcounts",),
}
DIAGNOSIS = {
    "ex1.counts_sum_backward": {"dcounts": "wrong_shape"},
}


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum * 1.0
