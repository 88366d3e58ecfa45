"""hprebn_backward with einsum for dembcat and dW1 and torch.sum over the batch for db1 (shape
(H,), like b1)."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def hprebn_backward(dhprebn, embcat, W1):
    dembcat = torch.einsum("nh,kh->nk", dhprebn, W1)
    dW1 = torch.einsum("nk,nh->kh", embcat, dhprebn)
    db1 = torch.sum(dhprebn, dim=0)
    return dembcat, dW1, db1
