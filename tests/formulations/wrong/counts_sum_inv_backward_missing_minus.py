"""counts_sum_inv_backward drops the minus sign of d(1/x)/dx = -1/x**2."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.counts_sum_inv_backward": ("dcounts_sum",),
}
DIAGNOSIS = {
    "ex1.counts_sum_inv_backward": {"dcounts_sum": "sign"},
}


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return counts_sum**-2 * dcounts_sum_inv
