import torch
import torch.nn.functional as F


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbngain = (dhpreact * bnraw).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbnraw = dhpreact * bngain
    dhprebn = (
        bnvar_inv
        / n
        * (n * dbnraw - dbnraw.sum(0, keepdim=True) - n / (n - 1) * bnraw * (dbnraw * bnraw).sum(0, keepdim=True))
    )
    return dhprebn, dbngain, dbnbias
