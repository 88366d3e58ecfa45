"""logit_maxes_backward with argmax, which returns the same (first) index of a tied maximum as
max, and index assignment into zeros."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def logit_maxes_backward(dlogit_maxes, logits):
    n = logits.shape[0]
    dlogits = torch.zeros_like(logits)
    dlogits[range(n), logits.argmax(1)] = dlogit_maxes[:, 0]
    return dlogits
