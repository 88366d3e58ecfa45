"""loss_backward divides by a hard-coded 32 (the lecture's batch size) instead of n, wrong for
every other batch size."""

import torch

MODULE = "ex1_atomic"
WRONG = {
    "ex1.loss_backward": ("dlogprobs",),
}
DIAGNOSIS = {
    "ex1.loss_backward": {"dlogprobs": "size_dependent"},
}


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -dloss / 32
    return dlogprobs
