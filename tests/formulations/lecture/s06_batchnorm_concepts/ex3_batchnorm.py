import torch
import torch.nn.functional as F

# bnraw = (x - mu) / sqrt(var + eps), var = 1/n sum (x - mu)^2
# dL/dx_i = gain * inv / n * (n*dy_i - sum_j dy_j - bnraw_i * sum_j dy_j*bnraw_j)


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbngain = (dhpreact * bnraw).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = (
        bngain
        * bnvar_inv
        / n
        * (n * dhpreact - dhpreact.sum(0, keepdim=True) - bnraw * (dhpreact * bnraw).sum(0, keepdim=True))
    )
    return dhprebn, dbngain, dbnbias
