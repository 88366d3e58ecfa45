"""hpreact_backward with the batch reductions for dbngain and dbnbias written as einsum and
reshaped to (1, H)."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def hpreact_backward(dhpreact, bngain, bnraw):
    H = bnraw.shape[1]
    dbngain = torch.einsum("nh,nh->h", bnraw, dhpreact).view(1, H)
    dbnraw = bngain * dhpreact
    dbnbias = torch.einsum("nh->h", dhpreact).view(1, H)
    return dbngain, dbnraw, dbnbias
