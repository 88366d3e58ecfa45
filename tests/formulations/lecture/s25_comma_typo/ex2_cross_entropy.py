"""Exercise 2 -- cross entropy backward in one go."""
import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n, V = logits.shape
    return (F.softmax(logits, dim=1) - F.one_hot(Yb, V).float()) / n
