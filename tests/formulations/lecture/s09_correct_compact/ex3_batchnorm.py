import torch
import torch.nn.functional as F


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbngain = torch.einsum("nh,nh->h", dhpreact, bnraw)[None]
    dbnbias = dhpreact.sum(0)[None]
    dbnraw = dhpreact * bngain
    # dx = inv/n * (n dxhat - sum(dxhat) - n/(n-1) xhat sum(dxhat*xhat))
    dhprebn = (bnvar_inv / n) * (n * dbnraw - dbnraw.sum(0) - n / (n - 1) * bnraw * (dbnraw * bnraw).sum(0))
    return dhprebn, dbngain, dbnbias
