import torch
import torch.nn.functional as F

"""
Backprop Ninja -- exercise 1
forward:
  emb -> embcat -> hprebn -> (bnmeani, bndiff, bndiff2, bnvar, bnvar_inv) -> bnraw -> hpreact -> h
  -> logits -> (logit_maxes, norm_logits) -> counts -> counts_sum -> counts_sum_inv -> probs -> logprobs -> loss
"""


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    return dlogprobs * dloss


def logprobs_backward(dlogprobs, probs):
    return dlogprobs * (1.0 / probs)


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = dprobs * counts_sum_inv
    dcounts_sum_inv = (dprobs * counts).sum(1, keepdim=True)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return dcounts_sum_inv * (-1.0 / counts_sum**2)


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum * torch.ones_like(counts)


def counts_backward(dcounts, counts):
    return dcounts * counts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), -dnorm_logits.sum(1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes


def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2


def h_backward(dh, h):
    return dh * (1.0 - h**2)


def hpreact_backward(dhpreact, bngain, bnraw):
    dbngain = (dhpreact * bnraw).sum(0, keepdim=True)
    dbnraw = dhpreact * bngain
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = dbnraw * bnvar_inv
    dbnvar_inv = (dbnraw * bndiff).sum(0, keepdim=True)
    return dbndiff, dbnvar_inv


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return dbnvar_inv * (-0.5 * (bnvar + 1e-5) ** -1.5)


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return dbnvar * torch.ones_like(bndiff2) * (1.0 / (n - 1))


def bndiff2_backward(dbndiff2, bndiff):
    return dbndiff2 * 2 * bndiff


def bndiff_backward(dbndiff):
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    return dhprebn, dbnmeani


def bnmeani_backward(dbnmeani, hprebn):
    # the mean is a sum over the batch -> the gradient is copied to every row
    return dbnmeani * torch.ones_like(hprebn)


def hprebn_backward(dhprebn, embcat, W1):
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return dC


def manual_backward(fwd):
    n = fwd.n
    Xb, Yb = fwd.Xb, fwd.Yb
    C, W1, W2, bngain = fwd.C, fwd.W1, fwd.W2, fwd.bngain
    emb, embcat, hprebn, bndiff, bndiff2 = fwd.emb, fwd.embcat, fwd.hprebn, fwd.bndiff, fwd.bndiff2
    bnvar, bnvar_inv, bnraw, h, logits = fwd.bnvar, fwd.bnvar_inv, fwd.bnraw, fwd.h, fwd.logits
    counts, counts_sum, counts_sum_inv = fwd.counts, fwd.counts_sum, fwd.counts_sum_inv
    probs, logprobs = fwd.probs, fwd.logprobs

    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = dlogprobs * (1.0 / probs)
    dcounts_sum_inv = (dprobs * counts).sum(1, keepdim=True)
    dcounts = dprobs * counts_sum_inv
    dcounts_sum = dcounts_sum_inv * (-1.0 / counts_sum**2)
    dcounts += dcounts_sum * torch.ones_like(counts)
    dnorm_logits = dcounts * counts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = dh * (1.0 - h**2)
    dbngain = (dhpreact * bnraw).sum(0, keepdim=True)
    dbnraw = dhpreact * bngain
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = dbnraw * bnvar_inv
    dbnvar_inv = (dbnraw * bndiff).sum(0, keepdim=True)
    dbnvar = dbnvar_inv * (-0.5 * (bnvar + 1e-5) ** -1.5)
    dbndiff2 = dbnvar * torch.ones_like(bndiff2) * (1.0 / (n - 1))
    dbndiff += dbndiff2 * 2 * bndiff
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn = dbndiff.clone()
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return {
        "logprobs": dlogprobs,
        "probs": dprobs,
        "counts_sum_inv": dcounts_sum_inv,
        "counts_sum": dcounts_sum,
        "counts": dcounts,
        "norm_logits": dnorm_logits,
        "logit_maxes": dlogit_maxes,
        "logits": dlogits,
        "h": dh,
        "W2": dW2,
        "b2": db2,
        "hpreact": dhpreact,
        "bngain": dbngain,
        "bnbias": dbnbias,
        "bnraw": dbnraw,
        "bnvar_inv": dbnvar_inv,
        "bnvar": dbnvar,
        "bndiff2": dbndiff2,
        "bndiff": dbndiff,
        "bnmeani": dbnmeani,
        "hprebn": dhprebn,
        "embcat": dembcat,
        "W1": dW1,
        "b1": db1,
        "emb": demb,
        "C": dC,
    }
