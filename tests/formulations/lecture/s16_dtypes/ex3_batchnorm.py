import torch
import torch.nn.functional as F


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    d, x = dhpreact.double(), bnraw.double()
    dhprebn = (bngain * bnvar_inv).double() / n * (n * d - d.sum(0) - n / (n - 1) * x * (d * x).sum(0))
    return dhprebn, dbngain, dbnbias
