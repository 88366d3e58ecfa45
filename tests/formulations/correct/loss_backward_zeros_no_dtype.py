"""loss_backward into torch.zeros(shape) with no dtype, with -dloss/n assigned at (range(n),
Yb)."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros(logprobs.shape)
    dlogprobs[range(n), Yb] = -dloss / n
    return dlogprobs
