"""h_backward takes its argument for hpreact and applies tanh again: (1 - tanh(h)**2) * dh instead of (1 - h**2) * dh."""

import torch

MODULE = "ex1_atomic"
WRONG = {"ex1.h_backward": ("dhpreact",)}
DIAGNOSIS = {"ex1.h_backward": {"dhpreact": "unknown"}}


def h_backward(dh, h):
    return (1.0 - torch.tanh(h) ** 2) * dh
