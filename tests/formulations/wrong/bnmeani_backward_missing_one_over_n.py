"""bnmeani_backward forgets the mean's 1/n and broadcasts dbnmeani unscaled."""

import torch

MODULE = "ex1_atomic"
WRONG = {
    "ex1.bnmeani_backward": ("dhprebn",),
}
DIAGNOSIS = {
    "ex1.bnmeani_backward": {"dhprebn": "scaled"},
}


def bnmeani_backward(dbnmeani, hprebn):
    return torch.ones_like(hprebn) * dbnmeani
