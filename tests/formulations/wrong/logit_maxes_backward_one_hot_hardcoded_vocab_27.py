"""logit_maxes_backward with F.one_hot(..., 27): a hard-coded vocabulary size, wrong shape
whenever V is not 27."""

import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {
    "ex1.logit_maxes_backward": ("dlogits",),
}
DIAGNOSIS = {
    "ex1.logit_maxes_backward": {"dlogits": "size_dependent"},
}


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=27) * dlogit_maxes
