import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    probs = F.softmax(logits, 1)
    return (probs - F.one_hot(Yb, logits.shape[1]).float()) / n
