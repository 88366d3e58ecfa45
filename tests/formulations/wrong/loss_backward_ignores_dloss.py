"""loss_backward ignores the upstream dloss (the lecture can, since there it is 1): -1/n at the
targets, wrong for any dloss other than 1."""

import torch

MODULE = "ex1_atomic"
WRONG = {
    "ex1.loss_backward": ("dlogprobs",),
}
# Revised (issue 10): "scaled" named a factor 1/dloss that changes every trial; the
# vocabulary now has the code for what it is.
DIAGNOSIS = {
    "ex1.loss_backward": {"dlogprobs": "ignores_upstream"},
}


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    return dlogprobs
