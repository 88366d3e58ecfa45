"""loss_backward as -one_hot(Yb) * dloss / n: the mean's 1/n and the upstream dloss land on the
target entries only."""

import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {}


def loss_backward(dloss, logprobs, Yb):
    n, V = logprobs.shape
    return -F.one_hot(Yb, num_classes=V).float() * dloss / n
