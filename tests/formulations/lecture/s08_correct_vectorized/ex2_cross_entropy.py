"""Exercise 2: dloss/dlogits = (softmax(logits) - onehot(Yb)) / n"""

import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n, V = logits.shape
    # do it in double, softmax of large logits loses digits in float
    probs = torch.softmax(logits.double(), dim=1)
    return (probs - F.one_hot(Yb, V).double()) / n
