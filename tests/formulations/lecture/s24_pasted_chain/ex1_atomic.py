import torch
import torch.nn.functional as F

# ---- Exercise 1 ----------------------------------------------------------
# my notation: dX always means dloss/dX, same shape as X


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -dloss / n  # only the picked entries are in the mean
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    return dlogprobs / probs


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = dprobs * counts_sum_inv
    dcounts_sum_inv = (dprobs * counts).sum(1, keepdim=True)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -dcounts_sum_inv / counts_sum**2


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum * torch.ones_like(counts)


def counts_backward(dcounts, counts):
    return dcounts * counts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), -dnorm_logits.sum(1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    V = logits.shape[1]
    return dlogit_maxes * F.one_hot(logits.max(1).indices, V)


def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2


def h_backward(dh, h):
    # tanh' = 1 - tanh^2 and h is already the tanh
    dhpreact = (1.0 - h**2) * dH
    return dhpreact


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
    return dbnvar_inv * (-0.5) * (bnvar + 1e-5) ** -1.5


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return dbnvar * torch.ones_like(bndiff2) / (n - 1)


def bndiff2_backward(dbndiff2, bndiff):
    return dbndiff2 * 2 * bndiff


def bndiff_backward(dbndiff):
    return dbndiff.clone(), -dbndiff.sum(0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    return dbnmeani * torch.ones_like(hprebn) / n


def hprebn_backward(dhprebn, embcat, W1):
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for i in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[i, j]] += demb[i, j]
    return dC


def manual_backward(fwd):
    f = fwd
    n = f.n
    dlogprobs = torch.zeros_like(f.logprobs)
    dlogprobs[range(n), f.Yb] = -1.0 / n
    dprobs = dlogprobs / f.probs
    dcounts_sum_inv = (dprobs * f.counts).sum(1, keepdim=True)
    dcounts = dprobs * f.counts_sum_inv
    dcounts_sum = -dcounts_sum_inv / f.counts_sum**2
    dcounts = dcounts + dcounts_sum * torch.ones_like(f.counts)
    dnorm_logits = dcounts * f.counts
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    dlogits = dnorm_logits + dlogit_maxes * F.one_hot(f.logits.max(1).indices, f.logits.shape[1])
    dh = dlogits @ f.W2.T
    dW2 = f.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - f.h**2) * dh
    dbngain = (dhpreact * f.bnraw).sum(0, keepdim=True)
    dbnraw = dhpreact * f.bngain
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbnvar_inv = (dbnraw * f.bndiff).sum(0, keepdim=True)
    dbnvar = dbnvar_inv * (-0.5) * (f.bnvar + 1e-5) ** -1.5
    dbndiff2 = dbnvar * torch.ones_like(f.bndiff2) / (n - 1)
    dbndiff = dbnraw * f.bnvar_inv + dbndiff2 * 2 * f.bndiff
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn = dbndiff + dbnmeani * torch.ones_like(f.hprebn) / n
    dembcat = dhprebn @ f.W1.T
    dW1 = f.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(f.emb.shape)
    dC = torch.zeros_like(f.C)
    for i in range(f.Xb.shape[0]):
        for j in range(f.Xb.shape[1]):
            dC[f.Xb[i, j]] += demb[i, j]
    return {
        "logprobs": dlogprobs, "probs": dprobs, "counts_sum_inv": dcounts_sum_inv,
        "counts_sum": dcounts_sum, "counts": dcounts, "norm_logits": dnorm_logits,
        "logit_maxes": dlogit_maxes, "logits": dlogits, "h": dh, "W2": dW2, "b2": db2,
        "hpreact": dhpreact, "bngain": dbngain, "bnbias": dbnbias, "bnraw": dbnraw,
        "bnvar_inv": dbnvar_inv, "bnvar": dbnvar, "bndiff2": dbndiff2, "bndiff": dbndiff,
        "bnmeani": dbnmeani, "hprebn": dhprebn, "embcat": dembcat, "W1": dW1, "b1": db1,
        "emb": demb, "C": dC,
    }
