import torch
import torch.nn.functional as F

# Backprop ninja ex 1 -- one function per line of the forward pass, then the chain.


def loss_backward(dloss, logprobs, Yb):
    # the mean over the batch of 32: each picked logprob gets -1/32
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(len(Yb)), Yb] = -1.0 / 32
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    return probs**-1 * dlogprobs


def probs_backward(dprobs, counts, counts_sum_inv):
    return counts_sum_inv * dprobs, (counts * dprobs).sum(1, keepdim=True)


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -1.0 * counts_sum**-2 * dcounts_sum_inv


def counts_sum_backward(dcounts_sum, counts):
    return torch.ones_like(counts) * dcounts_sum


def counts_backward(dcounts, counts):
    return counts * dcounts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), -dnorm_logits.sum(1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    mask = F.one_hot(logits.argmax(1), logits.shape[1]).float()
    return mask * dlogit_maxes


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)


def h_backward(dh, h):
    return (1 - h * h) * dh


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
    dC.index_add_(0, Xb.flatten(), demb.reshape(-1, C.shape[1]))
    return dC


def manual_backward(fwd):
    f = fwd
    n = f.n
    dlogprobs = torch.zeros_like(f.logprobs)
    dlogprobs[range(n), f.Yb] = -1.0 / n
    dprobs = f.probs**-1 * dlogprobs
    dcounts = f.counts_sum_inv * dprobs
    dcounts_sum_inv = (f.counts * dprobs).sum(1, keepdim=True)
    dcounts_sum = -1.0 * f.counts_sum**-2 * dcounts_sum_inv
    dcounts = dcounts + torch.ones_like(f.counts) * dcounts_sum
    dnorm_logits = f.counts * dcounts
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    dlogits = dnorm_logits + F.one_hot(f.logits.argmax(1), f.logits.shape[1]).float() * dlogit_maxes
    dh = dlogits @ f.W2.T
    dW2 = f.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1 - f.h * f.h) * dh
    dbngain = (f.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbnraw = f.bngain * dhpreact
    dbnvar_inv = (f.bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = -0.5 * (f.bnvar + 1e-5) ** -1.5 * dbnvar_inv
    dbndiff2 = torch.ones_like(f.bndiff2) * dbnvar / (n - 1)
    dbndiff = f.bnvar_inv * dbnraw + 2 * f.bndiff * dbndiff2
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn = dbndiff + torch.ones_like(f.hprebn) * dbnmeani / n
    dembcat = dhprebn @ f.W1.T
    dW1 = f.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)  # ~0 anyway: b1 is useless, batchnorm subtracts it right away
    demb = dembcat.view(f.emb.shape)
    dC = torch.zeros_like(f.C)
    dC.index_add_(0, f.Xb.flatten(), demb.reshape(-1, f.C.shape[1]))
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
        "emb": demb,
        "C": dC,
    }
