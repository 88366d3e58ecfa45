"""cross_entropy_backward forgets the /n of the mean reduction."""

import torch.nn.functional as F

MODULE = "ex2_cross_entropy"
WRONG = {
    "ex2.cross_entropy_backward": ("dlogits",),
}
DIAGNOSIS = {
    "ex2.cross_entropy_backward": {"dlogits": "scaled"},
}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    return dlogits
