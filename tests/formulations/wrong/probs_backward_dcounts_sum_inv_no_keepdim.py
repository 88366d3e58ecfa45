"""probs_backward sums dcounts_sum_inv over the row without keepdim, giving shape (n,) instead
of (n, 1)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.probs_backward": ("dcounts_sum_inv",),
}
DIAGNOSIS = {
    "ex1.probs_backward": {"dcounts_sum_inv": "wrong_shape"},
}


def probs_backward(dprobs, counts, counts_sum_inv):
    return counts_sum_inv * dprobs, (counts * dprobs).sum(1)
