"""bnvar_inv_backward as -0.5 * rsqrt(bnvar + eps)**3 * d, the same derivative via the
forward's own inverse square root."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * torch.rsqrt(bnvar + 1e-5) ** 3 * dbnvar_inv
