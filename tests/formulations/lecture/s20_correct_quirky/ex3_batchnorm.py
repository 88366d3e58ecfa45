import torch
import torch.nn.functional as F


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbngain = (dhpreact * bnraw).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    # x_hat = (x - mean) * inv, var unbiased:
    # dx = gain * inv * (dy - mean(dy) - x_hat * sum(dy * x_hat) / (n - 1))
    dhprebn = bngain * bnvar_inv * (dhpreact - dhpreact.mean(0, keepdim=True) - bnraw * dbngain / (n - 1))
    return dhprebn, dbngain, dbnbias
