"""probs_backward with the row reduction for dcounts_sum_inv written as an einsum and
unsqueezed back to (n, 1)."""

import torch

MODULE = "ex1_atomic"
WRONG = {}


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = dprobs * counts_sum_inv
    dcounts_sum_inv = torch.einsum("nv,nv->n", counts, dprobs).unsqueeze(1)
    return dcounts, dcounts_sum_inv
