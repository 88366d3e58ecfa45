"""cross_entropy_backward divides by the number of classes V (logits.shape[1]) instead of the batch size n."""

import torch

MODULE = "ex2_cross_entropy"
WRONG = {"ex2.cross_entropy_backward": ("dlogits",)}
DIAGNOSIS = {"ex2.cross_entropy_backward": {"dlogits": "scaled"}}


def cross_entropy_backward(logits, Yb):
    n, V = logits.shape
    dlogits = torch.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    return dlogits / V
