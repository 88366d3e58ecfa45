import torch
import torch.nn.functional as F

# ---------------------------------------------------------------
# Exercise 1 -- one function per line of the forward pass
# ---------------------------------------------------------------


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n * dloss
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    dprobs = probs**-1 * dlogprobs
    return dprobs


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    dcounts_sum = -1.0 * counts_sum**-2 * dcounts_sum_inv
    return dcounts_sum


def counts_sum_backward(dcounts_sum, counts):
    dcounts = torch.ones_like(counts) * dcounts_sum
    return dcounts


def counts_backward(dcounts, counts):
    dnorm_logits = counts * dcounts
    return dnorm_logits


def norm_logits_backward(dnorm_logits):
    dlogits = dnorm_logits  # logits pass straight through the subtraction
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    return dlogits, dlogit_maxes


def logit_maxes_backward(dlogit_maxes, logits):
    dlogits = torch.zeros_like(logits)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    return dlogits


def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2


def h_backward(dh, h):
    # tanh'(x) = 1 - tanh(x)^2 and h is already tanh(hpreact)
    dhpreact = (1.0 - h**2) * dh


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
    # power rule on (bnvar + eps)^-0.5
    dbnvar = -((bnvar + 1e-5) ** -1.5) * dbnvar_inv
    return dbnvar


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    dbndiff2 = 1.0 / (n - 1) * torch.ones_like(bndiff2) * dbnvar
    return dbndiff2


def bndiff2_backward(dbndiff2, bndiff):
    dbndiff = 2 * bndiff * dbndiff2
    return dbndiff


def bndiff_backward(dbndiff):
    dhprebn = dbndiff
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    return dhprebn, dbnmeani


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    dhprebn = 1.0 / n * torch.ones_like(hprebn) * dbnmeani
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
            dC[Xb[k, j]] += demb[k, j]
    return dC


# ---------------------------------------------------------------
# the whole chain in one go (cell from the notebook)
# ---------------------------------------------------------------
def manual_backward(fwd):
    n = fwd.n
    Yb, Xb = fwd.Yb, fwd.Xb
    logprobs, probs, counts, counts_sum, counts_sum_inv = (
        fwd.logprobs,
        fwd.probs,
        fwd.counts,
        fwd.counts_sum,
        fwd.counts_sum_inv,
    )
    logits, h, hpreact, bnraw = fwd.logits, fwd.h, fwd.hpreact, fwd.bnraw
    bnvar_inv, bnvar, bndiff2, bndiff, hprebn = fwd.bnvar_inv, fwd.bnvar, fwd.bndiff2, fwd.bndiff, fwd.hprebn
    embcat, emb = fwd.embcat, fwd.emb
    C, W1, W2, bngain = fwd.C, fwd.W1, fwd.W2, fwd.bngain

    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = probs**-1 * dlogprobs
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts_sum = -1.0 * counts_sum**-2 * dcounts_sum_inv
    dcounts += torch.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h**2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv
    dbndiff2 = 1.0 / (n - 1) * torch.ones_like(bndiff2) * dbnvar
    dbndiff += 2 * bndiff * dbndiff2
    dhprebn = dbndiff
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn += 1.0 / n * torch.ones_like(hprebn) * dbnmeani
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
