"""cross_entropy_backward forgets to subtract 1 at the target entries: softmax / n only."""

import torch.nn.functional as F

MODULE = "ex2_cross_entropy"
WRONG = {
    "ex2.cross_entropy_backward": ("dlogits",),
}
DIAGNOSIS = {
    "ex2.cross_entropy_backward": {"dlogits": "localized"},
}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    return F.softmax(logits, 1) / n
