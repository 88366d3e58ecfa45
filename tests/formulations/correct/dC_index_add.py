"""emb_backward with the out-of-place index_add, which accumulates repeated indices (unlike
advanced-index +=)."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def emb_backward(demb, C, Xb):
    return torch.zeros_like(C).index_add(0, Xb.view(-1), demb.view(-1, C.shape[1]))
