"""emb_backward as a contraction of the one-hot encoding of Xb with demb over the batch and
context dimensions: each token row sums every position that used it."""

import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {}


def emb_backward(demb, C, Xb):
    return torch.tensordot(F.one_hot(Xb, C.shape[0]).float(), demb, dims=([0, 1], [0, 1]))
