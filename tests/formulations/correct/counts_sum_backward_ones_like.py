"""counts_sum_backward as torch.ones_like(counts) * dcounts_sum: the row sum sends its gradient
unchanged to every element of the row, by broadcasting."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def counts_sum_backward(dcounts_sum, counts):
    return torch.ones_like(counts) * dcounts_sum
