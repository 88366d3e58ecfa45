"""logit_maxes_backward scatters dlogit_maxes into zeros at the index max returns, so exactly
one entry per row (also on ties) receives the gradient."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def logit_maxes_backward(dlogit_maxes, logits):
    index = logits.max(1, keepdim=True).indices
    return torch.zeros_like(logits).scatter_(1, index, dlogit_maxes)
