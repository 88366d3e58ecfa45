# Exercise 2: backprop through cross_entropy but all in one go
# loss = F.cross_entropy(logits, Yb)
# worked it out on paper: dloss/dlogits = softmax(logits) - 1 at the label, averaged over the batch
import torch
import torch.nn.functional as F


def cross_entropy_backward(logits, Yb):
    n = logits.shape[0]
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    return dlogits
