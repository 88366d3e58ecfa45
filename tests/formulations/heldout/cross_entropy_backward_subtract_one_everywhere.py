"""cross_entropy_backward subtracts 1 from every entry of softmax (softmax - 1) instead of only at the target entries [range(n), Yb]."""

import torch

MODULE = "ex2_cross_entropy"
WRONG = {"ex2.cross_entropy_backward": ("dlogits",)}
DIAGNOSIS = {"ex2.cross_entropy_backward": {"dlogits": "unknown"}}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    return (torch.softmax(logits, 1) - 1) / n
