"""loss_backward spreads -dloss/n over every entry of logprobs instead of only the target entries [range(n), Yb]."""

import torch

MODULE = "ex1_atomic"
WRONG = {"ex1.loss_backward": ("dlogprobs",)}
DIAGNOSIS = {"ex1.loss_backward": {"dlogprobs": "unknown"}}


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    return -dloss / n * torch.ones_like(logprobs)
