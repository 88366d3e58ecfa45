"""logit_maxes_backward assigns the (n, 1) upstream into the (n,) advanced-index result logits[range(n), argmax], which raises a shape mismatch."""

import torch

MODULE = "ex1_atomic"
WRONG = {"ex1.logit_maxes_backward": ("dlogits",)}
DIAGNOSIS = {"ex1.logit_maxes_backward": {"dlogits": "exception"}}


def logit_maxes_backward(dlogit_maxes, logits):
    n = logits.shape[0]
    dlogits = torch.zeros_like(logits)
    dlogits[range(n), logits.argmax(1)] = dlogit_maxes
    return dlogits
