"""logits_backward with einsum for both matmul gradients (dh = dlogits W2^T, dW2 = h^T dlogits)
and a sum over the batch for db2."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def logits_backward(dlogits, h, W2):
    dh = torch.einsum("nv,hv->nh", dlogits, W2)
    dW2 = torch.einsum("nh,nv->hv", h, dlogits)
    db2 = dlogits.sum(0)
    return dh, dW2, db2
