"""counts_sum_inv_backward computed in float64 (-x**-2 * d) and returned as float64."""

MODULE = "ex1_atomic"
WRONG = {}


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -(counts_sum.double() ** -2) * dcounts_sum_inv.double()
