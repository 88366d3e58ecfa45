import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    d = torch.softmax(logits, dim=1)
    d[range(n), Yb] -= 1
    return d / n
