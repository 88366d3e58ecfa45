import torch
import torch.nn.functional as F


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    # n = 32 in the batch
    dhprebn = bngain * bnvar_inv / 32 * (32 * dhpreact - dhpreact.sum(0) - 32 / 31 * bnraw * (dhpreact * bnraw).sum(0))
    return dhprebn, dbngain, dbnbias
