"""cross_entropy_backward takes the softmax over the batch (dim 0) instead of over the classes
(dim 1)."""

import torch.nn.functional as F

MODULE = "ex2_cross_entropy"
WRONG = {
    "ex2.cross_entropy_backward": ("dlogits",),
}
DIAGNOSIS = {
    "ex2.cross_entropy_backward": {"dlogits": "unknown"},
}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    dlogits = F.softmax(logits, 0)
    dlogits[range(n), Yb] -= 1
    return dlogits / n
