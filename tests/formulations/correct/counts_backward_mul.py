"""counts_backward reusing the forward output: d exp(x)/dx = exp(x) = counts, written with
torch.mul."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def counts_backward(dcounts, counts):
    return torch.mul(dcounts, counts)
