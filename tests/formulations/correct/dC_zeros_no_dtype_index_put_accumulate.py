"""emb_backward into torch.zeros(shape) with no dtype (float32 by default) and index_put_ with
accumulate=True, which sums repeated tokens."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def emb_backward(demb, C, Xb):
    dC = torch.zeros(C.shape)
    dC.index_put_((Xb,), demb, accumulate=True)
    return dC
