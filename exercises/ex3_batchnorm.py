# Generated from solutions/ by `backprop-ninja stubs`: fill in the functions.
"""Exercise 3: the gradient through the batchnorm layer, in one go.

The block is hprebn -> hpreact with the batch mean, the Bessel-corrected batch variance
(1/(n-1)) and eps 1e-5:

    bnmean = hprebn.mean(0, keepdim=True)
    bnvar = hprebn.var(0, keepdim=True, unbiased=True)
    bnvar_inv = (bnvar + 1e-5)**-0.5
    bnraw = (hprebn - bnmean) * bnvar_inv
    hpreact = bngain * bnraw + bnbias
"""

import torch


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    """dhpreact: (n, H)  bnraw: (n, H)  bnvar_inv: (1, H)  bngain: (1, H)

    Returns (dhprebn, dbngain, dbnbias): (n, H), (1, H), (1, H).
    """
    raise NotImplementedError("write this function: see its docstring")
