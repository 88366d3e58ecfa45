import torch
import torch.nn.functional as F


# ------------------------------------------------------------------ atomic ops


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -dloss / n
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    return dlogprobs / probs


def probs_backward(dprobs, counts, counts_sum_inv):
    return counts_sum_inv * dprobs, (counts * dprobs).sum(1, keepdim=True)


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -(counts_sum**-2) * dcounts_sum_inv


def counts_sum_backward(dcounts_sum, counts):
    # sum just routes the gradient through to each element
    dcounts = dcounts_sum
    return dcounts


def counts_backward(dcounts, counts):
    return counts * dcounts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), -dnorm_logits.sum(1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)


def h_backward(dh, h):
    return (1 - h**2) * dh


def hpreact_backward(dhpreact, bngain, bnraw):
    return (bnraw * dhpreact).sum(0, keepdim=True), bngain * dhpreact, dhpreact.sum(0, keepdim=True)


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    return bnvar_inv * dbnraw, (bndiff * dbnraw).sum(0, keepdim=True)


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return torch.ones_like(bndiff2) * dbnvar / (n - 1)


def bndiff2_backward(dbndiff2, bndiff):
    return 2 * bndiff * dbndiff2


def bndiff_backward(dbndiff):
    return dbndiff.clone(), -dbndiff.sum(0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    return torch.ones_like(hprebn) * dbnmeani / n


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1.T, embcat.T @ dhprebn, dhprebn.sum(0)


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    dC[Xb] += demb  # vectorized version of the double loop
    return dC


# ------------------------------------------------------------------ the whole chain


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
    dprobs = dlogprobs / probs
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts_sum = -(counts_sum**-2) * dcounts_sum_inv
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1 - h**2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv
    dbndiff2 = torch.ones_like(bndiff2) * dbnvar / (n - 1)
    dbndiff += 2 * bndiff * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn += torch.ones_like(hprebn) * dbnmeani / n
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
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
