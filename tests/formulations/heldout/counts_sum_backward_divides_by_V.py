"""counts_sum_backward treats the row sum like a row mean and divides the copied gradient by V."""

import torch

MODULE = "ex1_atomic"
WRONG = {"ex1.counts_sum_backward": ("dcounts",)}
DIAGNOSIS = {"ex1.counts_sum_backward": {"dcounts": "scaled"}}


def counts_sum_backward(dcounts_sum, counts):
    V = counts.shape[1]
    return torch.ones_like(counts) * dcounts_sum / V
