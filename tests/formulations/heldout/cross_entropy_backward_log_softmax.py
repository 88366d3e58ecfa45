"""cross_entropy_backward starts from log_softmax instead of softmax: (log p - onehot) / n."""

import torch.nn.functional as F

MODULE = "ex2_cross_entropy"
WRONG = {"ex2.cross_entropy_backward": ("dlogits",)}
DIAGNOSIS = {"ex2.cross_entropy_backward": {"dlogits": "unknown"}}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    dlogits = F.log_softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    return dlogits / n
