import torch
import torch.nn.functional as F


#### loss ####
def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -dloss / n
    return dlogprobs


#### softmax pieces ####
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
    # local derivative of exp is exp of the same input
    dnorm_logits = norm_logits.exp() * dcounts
    return dnorm_logits


def norm_logits_backward(dnorm_logits):
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    return dlogits, dlogit_maxes


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes


#### second layer + tanh ####
def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2


def h_backward(dh, h):
    return (1.0 - h**2) * dh


#### batchnorm ####
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


#### first layer + embedding ####
def hprebn_backward(dhprebn, embcat, W1):
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backwards(demb, C, Xb):
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return dC


#### everything ####
def manual_backward(fwd):
    n = fwd.n
    dlogprobs = torch.zeros_like(fwd.logprobs)
    dlogprobs[range(n), fwd.Yb] = -1.0 / n
    dprobs = (1.0 / fwd.probs) * dlogprobs
    dcounts_sum_inv = (fwd.counts * dprobs).sum(1, keepdim=True)
    dcounts = fwd.counts_sum_inv * dprobs
    dcounts_sum = (-(fwd.counts_sum**-2)) * dcounts_sum_inv
    dcounts += torch.ones_like(fwd.counts) * dcounts_sum
    dnorm_logits = fwd.counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(fwd.logits.max(1).indices, num_classes=fwd.logits.shape[1]) * dlogit_maxes
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - fwd.h**2) * dh
    dbngain = (fwd.bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = fwd.bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = fwd.bnvar_inv * dbnraw
    dbnvar_inv = (fwd.bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 * (fwd.bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(fwd.bndiff2) * dbnvar
    dbndiff += (2 * fwd.bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0, keepdim=True)
    dhprebn += 1.0 / n * (torch.ones_like(fwd.hprebn) * dbnmeani)
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(fwd.emb.shape)
    dC = torch.zeros_like(fwd.C)
    for k in range(fwd.Xb.shape[0]):
        for j in range(fwd.Xb.shape[1]):
            ix = fwd.Xb[k, j]
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
        "bndiff": dbndiff,
        "bnmeani": dbnmeani,
        "hprebn": dhprebn,
        "emb_cat": dembcat,
        "W1": dW1,
        "b1": db1,
        "emb": demb,
        "C": dC,
    }
