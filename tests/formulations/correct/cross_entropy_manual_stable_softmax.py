"""cross_entropy_backward with a hand-written max-shifted softmax and the target subtracted via
scatter_add, then divided by n."""

import torch

MODULE = "ex2_cross_entropy"
WRONG = {}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    counts = (logits - logits.max(1, keepdim=True).values).exp()
    probs = counts / counts.sum(1, keepdim=True)
    minus_one = torch.full((n, 1), -1.0)
    return probs.scatter_add(1, Yb.view(-1, 1), minus_one) / n
