"""counts_sum_inv_backward as -d / x**2, the derivative of 1/x written with a division."""

MODULE = "ex1_atomic"
WRONG = {}


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -dcounts_sum_inv / (counts_sum * counts_sum)
