import torch
import torch.nn.functional as F


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dhprebn = n * dhpreact
    dhprebn -= dbnbias
    dhprebn -= n / (n - 1) * bnraw * dbngain
    dhprebn *= bngain * bnvar_inv / n
    return dhprebn, dbngain, dbnbias
