"""cross_entropy_backward from exp(log_softmax) computed in float64, returned as float64."""

import torch
import torch.nn.functional as F

MODULE = "ex2_cross_entropy"
WRONG = {}


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    dlogits = F.log_softmax(logits.double(), dim=1).exp()
    dlogits[torch.arange(n), Yb] -= 1.0
    return dlogits / n
