"""emb_backward with dC[Xb] += demb: advanced-index += writes each repeated token once instead
of accumulating."""

import torch

MODULE = "ex1_atomic"
WRONG = {
    "ex1.emb_backward": ("dC",),
}
DIAGNOSIS = {
    "ex1.emb_backward": {"dC": "localized"},
}


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    dC[Xb] += demb
    return dC
