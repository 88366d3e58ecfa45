"""loss_backward forgets the mean's 1/n: -dloss at the targets instead of -dloss/n."""

import torch

MODULE = "ex1_atomic"
WRONG = {
    "ex1.loss_backward": ("dlogprobs",),
}
DIAGNOSIS = {
    "ex1.loss_backward": {"dlogprobs": "scaled"},
}


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -dloss
    return dlogprobs
