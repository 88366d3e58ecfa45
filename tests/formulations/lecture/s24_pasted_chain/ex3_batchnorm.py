import torch
import torch.nn.functional as F


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbngain = (dhpreact * bnraw).sum(0, keepdim=True)
    dbnbias = dpreact.sum(0, keepdim=True)
    # worked out on paper: the mean and the (n-1) variance both depend on every row
    dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dbnbias - n / (n - 1) * bnraw * dbngain)
    return dhprebn, dbngain, dbnbias
