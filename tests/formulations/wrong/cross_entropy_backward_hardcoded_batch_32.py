"""cross_entropy_backward divides by a hard-coded 32 instead of n."""

import torch.nn.functional as F

MODULE = "ex2_cross_entropy"
WRONG = {
    "ex2.cross_entropy_backward": ("dlogits",),
}
DIAGNOSIS = {
    "ex2.cross_entropy_backward": {"dlogits": "size_dependent"},
}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= 32
    return dlogits
