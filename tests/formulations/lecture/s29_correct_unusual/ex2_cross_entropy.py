"""Exercise 2: d(mean cross entropy)/dlogits = (softmax - onehot) / n."""
import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n, V = logits.shape
    return (torch.softmax(logits, 1) - F.one_hot(Yb, V)) / n
