"""The lecture's cross_entropy_backward: softmax, minus 1 at each target, divided by n
(in-place on a fresh tensor, so no argument is touched)."""

import torch.nn.functional as F

MODULE = "ex2_cross_entropy"
WRONG = {}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    return dlogits
