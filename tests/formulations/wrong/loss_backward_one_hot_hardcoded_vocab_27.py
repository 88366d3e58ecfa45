"""loss_backward builds its one-hot mask with a hard-coded 27 classes (the lecture's
vocabulary), so dlogprobs has the wrong shape whenever V is not 27."""

import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {
    "ex1.loss_backward": ("dlogprobs",),
}
DIAGNOSIS = {
    "ex1.loss_backward": {"dlogprobs": "size_dependent"},
}


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    return -F.one_hot(Yb, 27).float() * dloss / n
