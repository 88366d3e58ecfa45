"""bnmeani_backward as torch.ones_like(hprebn) * dbnmeani / n: each element of the batch gets
1/n of the mean's gradient."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    return torch.ones_like(hprebn) * dbnmeani / n
