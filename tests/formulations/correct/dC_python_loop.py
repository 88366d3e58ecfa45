"""emb_backward as in the lecture: a nested Python loop that adds each row of demb into the row
of dC its token indexes, so repeated tokens accumulate."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return dC
