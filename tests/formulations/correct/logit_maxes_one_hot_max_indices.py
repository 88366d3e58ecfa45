"""logit_maxes_backward routes dlogit_maxes to the index that max returns, via
F.one_hot(logits.max(1).indices), exactly as autograd does on ties."""

import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {}


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
