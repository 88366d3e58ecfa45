"""bnvar_backward uses 1/n instead of the forward's Bessel-corrected 1/(n-1)."""

import torch

MODULE = "ex1_atomic"
WRONG = {
    "ex1.bnvar_backward": ("dbndiff2",),
}
DIAGNOSIS = {
    "ex1.bnvar_backward": {"dbndiff2": "scaled"},
}


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return 1.0 / n * torch.ones_like(bndiff2) * dbnvar
