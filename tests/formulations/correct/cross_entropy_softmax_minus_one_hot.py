"""cross_entropy_backward as (softmax(logits) - one_hot(Yb)) / n."""

import torch.nn.functional as F

MODULE = "ex2_cross_entropy"
WRONG = {}


def cross_entropy_backward(logits, Yb):
    n, V = logits.shape
    return (F.softmax(logits, dim=1) - F.one_hot(Yb, num_classes=V).float()) / n
