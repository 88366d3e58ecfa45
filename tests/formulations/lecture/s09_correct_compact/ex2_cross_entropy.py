import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    y = torch.zeros_like(logits).scatter_(1, Yb.unsqueeze(1), 1.0)
    return (logits.softmax(-1) - y) / n
