"""emb_backward uses the lecture's double loop but assigns dC[ix] = demb[k, j] instead of adding, so a repeated token keeps only its last occurrence."""

import torch

MODULE = "ex1_atomic"
WRONG = {"ex1.emb_backward": ("dC",)}
DIAGNOSIS = {"ex1.emb_backward": {"dC": "localized"}}


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] = demb[k, j]
    return dC
