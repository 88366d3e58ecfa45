"""loss_backward scattering -dloss/n into zeros at column Yb of each row."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    src = (-dloss / n).expand(n, 1)
    return torch.zeros_like(logprobs).scatter(1, Yb.view(-1, 1), src)
