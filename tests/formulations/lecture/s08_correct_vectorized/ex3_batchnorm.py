"""Exercise 3: batchnorm backward in one expression."""

import torch
import torch.nn.functional as F


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbnbias = dhpreact.sum(dim=0, keepdim=True)
    dbngain = (dhpreact * bnraw).sum(dim=0, keepdim=True)
    # mean of dy and mean of dy*xhat, with Bessel's factor n/(n-1) on the second
    mean_dy = dbnbias / n
    mean_dy_xhat = dbngain / (n - 1)
    dhprebn = bngain * bnvar_inv * (dhpreact - mean_dy - bnraw * mean_dy_xhat)
    return dhprebn, dbngain, dbnbias
