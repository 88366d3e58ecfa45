# Exercise 2: backprop through cross_entropy but all in one go
# to complete this challenge look at the mathematical expression of the loss,
# take the derivative, simplify the expression, and just write it out
import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    # backward pass
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    return dlogits
