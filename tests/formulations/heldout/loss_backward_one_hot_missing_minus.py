"""loss_backward builds the one-hot of the targets scaled by dloss/n but drops the minus of loss = -mean(...)."""

import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {"ex1.loss_backward": ("dlogprobs",)}
DIAGNOSIS = {"ex1.loss_backward": {"dlogprobs": "sign"}}


def loss_backward(dloss, logprobs, Yb):
    n, V = logprobs.shape
    return F.one_hot(Yb, num_classes=V).to(logprobs.dtype) * dloss / n
