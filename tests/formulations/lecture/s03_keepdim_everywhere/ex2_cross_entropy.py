import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n, V = logits.shape
    probs = logits.exp()
    probs = probs / probs.sum(1, keepdim=True)
    return (probs - F.one_hot(Yb, V)) / n
