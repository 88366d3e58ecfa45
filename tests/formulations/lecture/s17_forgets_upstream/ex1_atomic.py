import torch
import torch.nn.functional as F

# local derivative times the gradient coming from above


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    return dlogprobs * dloss


def logprobs_backward(dlogprobs, probs):
    return (1.0 / probs) * dlogprobs


def probs_backward(dprobs, counts, counts_sum_inv):
    return counts_sum_inv * dprobs, (counts * dprobs).sum(1, keepdim=True)


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -(counts_sum**-2) * dcounts_sum_inv


def counts_sum_backward(dcounts_sum, counts):
    return torch.ones_like(counts) * dcounts_sum


def counts_backward(dcounts, counts):
    # d/dx e^x = e^x, which is just counts
    dnorm_logits = counts
    return dnorm_logits


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), -dnorm_logits.sum(1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)


def h_backward(dh, h):
    # derivative of tanh
    dhpreact = 1.0 - h**2
    return dhpreact


def hpreact_backward(dhpreact, bngain, bnraw):
    return (bnraw * dhpreact).sum(0, keepdim=True), bngain * dhpreact, dhpreact.sum(0, keepdim=True)


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    return bnvar_inv * dbnraw, (bndiff * dbnraw).sum(0, keepdim=True)


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return 1.0 / (n - 1) * torch.ones_like(bndiff2) * dbnvar


def bndiff2_backward(dbndiff2, bndiff):
    return 2 * bndiff * dbndiff2


def bndiff_backward(dbndiff):
    return dbndiff.clone(), -dbndiff.sum(0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    # every element of the batch contributes 1/n to the mean
    dhprebn = 1.0 / n * torch.ones_like(hprebn)
    return dhprebn


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1.T, embcat.T @ dhprebn, dhprebn.sum(0)


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
    return dC


NAMES = [
    "logprobs",
    "probs",
    "counts_sum_inv",
    "counts_sum",
    "counts",
    "norm_logits",
    "logit_maxes",
    "logits",
    "h",
    "W2",
    "b2",
    "hpreact",
    "bngain",
    "bnbias",
    "bnraw",
    "bnvar_inv",
    "bnvar",
    "bndiff2",
    "bndiff",
    "bnmeani",
    "hprebn",
    "embcat",
    "W1",
    "b1",
    "emb",
    "C",
]


def manual_backward(fwd):
    n = fwd.n
    dlogprobs = torch.zeros_like(fwd.logprobs)
    dlogprobs[range(n), fwd.Yb] = -1.0 / n
    dprobs = (1.0 / fwd.probs) * dlogprobs
    dcounts_sum_inv = (fwd.counts * dprobs).sum(1, keepdim=True)
    dcounts = fwd.counts_sum_inv * dprobs
    dcounts_sum = -(fwd.counts_sum**-2) * dcounts_sum_inv
    dcounts = dcounts + torch.ones_like(fwd.counts) * dcounts_sum
    dnorm_logits = fwd.counts * dcounts
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    dlogits = dnorm_logits + F.one_hot(fwd.logits.max(1).indices, num_classes=fwd.logits.shape[1]) * dlogit_maxes
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - fwd.h**2) * dh
    dbngain = (fwd.bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = fwd.bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbnvar_inv = (fwd.bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = -0.5 * (fwd.bnvar + 1e-5) ** -1.5 * dbnvar_inv
    dbndiff2 = 1.0 / (n - 1) * torch.ones_like(fwd.bndiff2) * dbnvar
    dbndiff = fwd.bnvar_inv * dbnraw + 2 * fwd.bndiff * dbndiff2
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn = dbndiff + 1.0 / n * torch.ones_like(fwd.hprebn) * dbnmeani
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(fwd.emb.shape)
    dC = torch.zeros_like(fwd.C)
    for k in range(fwd.Xb.shape[0]):
        for j in range(fwd.Xb.shape[1]):
            dC[fwd.Xb[k, j]] += demb[k, j]
    grads = [
        dlogprobs,
        dprobs,
        dcounts_sum_inv,
        dcounts_sum,
        dcounts,
        dnorm_logits,
        dlogit_maxes,
        dlogits,
        dh,
        dW2,
        db2,
        dhpreact,
        dbngain,
        dbnbias,
        dbnraw,
        dbnvar_inv,
        dbnvar,
        dbndiff2,
        dbndiff,
        dbnmeani,
        dhprebn,
        dembcat,
        dW1,
        db1,
        demb,
        dC,
    ]
    return dict(zip(NAMES, grads))
