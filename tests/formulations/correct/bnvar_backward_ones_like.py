"""bnvar_backward as torch.ones_like(bndiff2) * dbnvar / (n - 1), Bessel's 1/(n-1) with n read
from the input's shape."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return torch.ones_like(bndiff2) * dbnvar / (n - 1)
