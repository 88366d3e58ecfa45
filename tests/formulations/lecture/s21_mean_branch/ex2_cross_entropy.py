import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    norm = logits - logits.max(1, keepdim=True).values
    p = norm.exp() / norm.exp().sum(1, keepdim=True)
    p[range(n), Yb] -= 1
    return p / n
