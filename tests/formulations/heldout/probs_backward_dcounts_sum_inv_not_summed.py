"""probs_backward forgets that counts_sum_inv was broadcast over the V columns, so dcounts_sum_inv is not summed and keeps shape (n, V)."""

MODULE = "ex1_atomic"
WRONG = {"ex1.probs_backward": ("dcounts_sum_inv",)}
DIAGNOSIS = {"ex1.probs_backward": {"dcounts_sum_inv": "wrong_shape"}}


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = dprobs * counts_sum_inv
    dcounts_sum_inv = dprobs * counts
    return dcounts, dcounts_sum_inv
