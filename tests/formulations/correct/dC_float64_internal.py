"""emb_backward computed in float64 and returned as float64: the values are right, and a dtype
wider than the input's is acceptable."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def emb_backward(demb, C, Xb):
    dC = torch.zeros(C.shape, dtype=torch.float64)
    dC.index_add_(0, Xb.reshape(-1), demb.double().reshape(-1, C.shape[1]))
    return dC
