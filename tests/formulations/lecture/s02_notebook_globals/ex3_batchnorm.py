import torch
import torch.nn.functional as F

n_hidden = 64
batch_size = 32


# hpreact_fast = bngain * (hprebn - hprebn.mean(0, keepdim=True)) / torch.sqrt(hprebn.var(0, keepdim=True, unbiased=True) + 1e-5) + bnbias
def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    m = dhpreact.shape[0]
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dhprebn = (
        bngain * bnvar_inv / m * (m * dhpreact - dhpreact.sum(0) - m / (m - 1) * bnraw * (dhpreact * bnraw).sum(0))
    )
    return dhprebn, dbngain, dbnbias
