"""emb_backward into torch.zeros(V, E) with no dtype, filled by per-position index assignment
in a loop, so repeated tokens accumulate."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def emb_backward(demb, C, Xb):
    dC = torch.zeros(C.shape[0], C.shape[1])
    n, B = Xb.shape
    for k in range(n):
        for j in range(B):
            dC[Xb[k, j].item()] = dC[Xb[k, j].item()] + demb[k, j]
    return dC
