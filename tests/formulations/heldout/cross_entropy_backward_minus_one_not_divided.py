"""cross_entropy_backward divides softmax by n first and then subtracts a full 1 (not 1/n) at the target entries."""

import torch

MODULE = "ex2_cross_entropy"
WRONG = {"ex2.cross_entropy_backward": ("dlogits",)}
DIAGNOSIS = {"ex2.cross_entropy_backward": {"dlogits": "localized"}}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    dlogits = torch.softmax(logits, 1) / n
    dlogits[range(n), Yb] -= 1
    return dlogits
