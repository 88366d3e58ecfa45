"""Batchnorm backward step by step through the atomic chain, recovering bndiff = bnraw /
bnvar_inv and using d(bnvar_inv)/d(bnvar) = -0.5 * bnvar_inv**3."""

import torch

MODULE = "ex3_batchnorm"
WRONG = {}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    bndiff = bnraw / bnvar_inv
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = -0.5 * bnvar_inv**3 * dbnvar_inv
    dbndiff = dbndiff + 2 * bndiff * torch.ones_like(bndiff) * dbnvar / (n - 1)
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn = dbndiff + torch.ones_like(bndiff) * dbnmeani / n
    return dhprebn, dbngain, dbnbias
