"""Exercise 3, in the 'centred' form: subtract the batch mean of dhpreact and the
projection of dhpreact on bnraw (with Bessel's n-1), then scale by gain / std."""
import torch


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbngain = (dhpreact * bnraw).sum(0, keepdim=True)
    centred = dhpreact - dhpreact.mean(0, keepdim=True) - bnraw * dbngain / (n - 1)
    return bngain * bnvar_inv * centred, dbngain, dbnbias
