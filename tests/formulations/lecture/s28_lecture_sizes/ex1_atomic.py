import torch
import torch.nn.functional as F


# ----------------------------------------------------------------------------
# Exercise 1: backprop through the whole thing manually
# ----------------------------------------------------------------------------

def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[torch.arange(n), Yb] = -dloss / n
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    return (1.0 / probs) * dlogprobs


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return (-(counts_sum**-2)) * dcounts_sum_inv


def counts_sum_backward(dcounts_sum, counts):
    return torch.ones_like(counts) * dcounts_sum


def counts_backward(dcounts, counts):
    return counts * dcounts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), (-dnorm_logits).sum(1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)


def h_backward(dh, h):
    return (1.0 - h**2) * dh


def hpreact_backward(dhpreact, bngain, bnraw):
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    return bnvar_inv * dbnraw, (bndiff * dbnraw).sum(0, keepdim=True)


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar


def bndiff2_backward(dbndiff2, bndiff):
    return (2 * bndiff) * dbndiff2


def bndiff_backward(dbndiff):
    return dbndiff.clone(), (-dbndiff).sum(0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    return 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1.T, embcat.T @ dhprebn, dhprebn.sum(0)


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    # instead of the double for loop: add every row of demb into its token's row
    dC = torch.zeros_like(C)
    dC.index_add_(0, Xb.view(-1), demb.view(-1, C.shape[1]))
    return dC


def manual_backward(fwd):
    f = fwd
    n = f.n
    dlogprobs = torch.zeros_like(f.logprobs)
    dlogprobs[torch.arange(n), f.Yb] = -1.0 / n
    dprobs = (1.0 / f.probs) * dlogprobs
    dcounts_sum_inv = (f.counts * dprobs).sum(1, keepdim=True)
    dcounts = f.counts_sum_inv * dprobs
    dcounts_sum = (-(f.counts_sum**-2)) * dcounts_sum_inv
    dcounts += torch.ones_like(f.counts) * dcounts_sum
    dnorm_logits = f.counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
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
    dbnvar = (-0.5 * (f.bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(f.bndiff2) * dbnvar
    dbndiff += (2 * f.bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0, keepdim=True)
    dhprebn += 1.0 / n * (torch.ones_like(f.hprebn) * dbnmeani)
    dembcat = dhprebn @ f.W1.T
    dW1 = f.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(f.emb.shape)
    dC = torch.zeros_like(f.C)
    dC.index_add_(0, f.Xb.view(-1), demb.view(32 * 3, 10))
    return dict(
        logprobs=dlogprobs, probs=dprobs, counts_sum_inv=dcounts_sum_inv, counts_sum=dcounts_sum,
        counts=dcounts, norm_logits=dnorm_logits, logit_maxes=dlogit_maxes, logits=dlogits,
        h=dh, W2=dW2, b2=db2, hpreact=dhpreact, bngain=dbngain, bnbias=dbnbias, bnraw=dbnraw,
        bnvar_inv=dbnvar_inv, bnvar=dbnvar, bndiff2=dbndiff2, bndiff=dbndiff, bnmeani=dbnmeani,
        hprebn=dhprebn, embcat=dembcat, W1=dW1, b1=db1, emb=demb, C=dC,
    )
