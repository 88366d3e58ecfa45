import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n, V = logits.shape
    probs = F.log_softmax(logits, dim=1).exp()
    target = F.one_hot(Yb, V).to(probs.dtype)
    return (probs - target) / n
