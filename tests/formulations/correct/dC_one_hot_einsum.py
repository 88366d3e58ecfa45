"""emb_backward as an einsum over the one-hot encoding of Xb: dC[v, e] = sum over (k, j) of
[Xb[k, j] == v] * demb[k, j, e]."""

import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {}


def emb_backward(demb, C, Xb):
    onehot = F.one_hot(Xb, num_classes=C.shape[0]).to(demb.dtype)  # (n, B, V)
    return torch.einsum("kjv,kje->ve", onehot, demb)
