"""emb_backward with F.one_hot(Xb, 27): a hard-coded vocabulary gives dC the wrong number of
rows whenever V is not 27."""

import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {
    "ex1.emb_backward": ("dC",),
}
DIAGNOSIS = {
    "ex1.emb_backward": {"dC": "size_dependent"},
}


def emb_backward(demb, C, Xb):
    return torch.tensordot(F.one_hot(Xb, 27).float(), demb, dims=([0, 1], [0, 1]))
