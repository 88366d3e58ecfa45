"""cross_entropy_backward subtracts F.one_hot(Yb, 27): a hard-coded vocabulary that does not
broadcast against (n, V) when V is not 27."""

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
    return (F.softmax(logits, 1) - F.one_hot(Yb, 27).float()) / n
