"""emb_backward with scatter_add_ along dim 0, an index expanded over the embedding dimension;
scatter_add accumulates repeated tokens."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def emb_backward(demb, C, Xb):
    E = C.shape[1]
    index = Xb.view(-1, 1).expand(-1, E)
    return torch.zeros_like(C).scatter_add_(0, index, demb.view(-1, E))
