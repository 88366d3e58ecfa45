"""bnvar_backward with Bessel's factor hard-coded as 1/31 (the lecture's batch of 32), wrong
for every other batch size."""

import torch

MODULE = "ex1_atomic"
WRONG = {
    "ex1.bnvar_backward": ("dbndiff2",),
}
DIAGNOSIS = {
    "ex1.bnvar_backward": {"dbndiff2": "size_dependent"},
}


def bnvar_backward(dbnvar, bndiff2):
    return 1.0 / 31 * torch.ones_like(bndiff2) * dbnvar
