# makemore part 4 -- exercise 1, backprop through every atomic op
# (cells from my notebook turned into functions)
import torch
import torch.nn.functional as F


# -----------------------------------------------------------------------------
# loss = -logprobs[range(n), Yb].mean()
def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    # only the picked-out entries take part in the mean, each with weight -1/n
    dlogprobs[range(n), Yb] = -1.0 / n
    dlogprobs = dlogprobs * dloss  # chain rule with the upstream dloss
    return dlogprobs


# logprobs = probs.log()
def logprobs_backward(dlogprobs, probs):
    dprobs = (1.0 / probs) * dlogprobs
    return dprobs


# probs = counts * counts_sum_inv
def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = counts_sum_inv * dprobs
    # counts_sum_inv is (n,1) and got broadcast across the columns -> sum them back
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    return dcounts, dcounts_sum_inv


# counts_sum_inv = counts_sum**-1
def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    dcounts_sum = (-(counts_sum**-2)) * dcounts_sum_inv
    return dcounts_sum


# counts_sum = counts.sum(1, keepdim=True)
def counts_sum_backward(dcounts_sum, counts):
    dcounts = torch.ones_like(counts) * dcounts_sum
    return dcounts


# counts = norm_logits.exp()
def counts_backward(dcounts, counts):
    dnorm_logits = counts * dcounts  # d/dx e^x = e^x = counts
    return dnorm_logits


# norm_logits = logits - logit_maxes
def norm_logits_backward(dnorm_logits):
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    return dlogits, dlogit_maxes


# logit_maxes = logits.max(1, keepdim=True).values
def logit_maxes_backward(dlogit_maxes, logits):
    dlogits = F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    return dlogits


# logits = h @ W2 + b2
def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2


# h = torch.tanh(hpreact)
def h_backward(dh, h):
    dhpreact = (1.0 - h**2) * dh
    return dhpreact


# hpreact = bngain * bnraw + bnbias
def hpreact_backward(dhpreact, bngain, bnraw):
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dbngain, dbnraw, dbnbias


# bnraw = bndiff * bnvar_inv
def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    return dbndiff, dbnvar_inv


# bnvar_inv = (bnvar + 1e-5)**-0.5
def bnvar_inv_backward(dbnvar_inv, bnvar):
    dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
    return dbnvar


# bnvar = 1/(n-1) * bndiff2.sum(0, keepdim=True)
def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar
    return dbndiff2


# bndiff2 = bndiff**2
def bndiff2_backward(dbndiff2, bndiff):
    dbndiff = (2 * bndiff) * dbndiff2
    return dbndiff


# bndiff = hprebn - bnmeani
def bndiff_backward(dbndiff):
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0, keepdim=True)
    return dhprebn, dbnmeani


# bnmeani = 1/n * hprebn.sum(0, keepdim=True)
def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    dhprebn = 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)
    return dhprebn


# hprebn = embcat @ W1 + b1
def hprebn_backward(dhprebn, embcat, W1):
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1


# embcat = emb.view(emb.shape[0], -1)
def embcat_backward(dembcat, emb):
    demb = dembcat.view(emb.shape)
    return demb


# emb = C[Xb]
def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return dC


# -----------------------------------------------------------------------------
# the big cell: backprop through the whole thing manually
def manual_backward(fwd):
    n = fwd.n
    Xb, Yb = fwd.Xb, fwd.Yb
    C, W1, W2, bngain = fwd.C, fwd.W1, fwd.W2, fwd.bngain
    emb, embcat, hprebn = fwd.emb, fwd.embcat, fwd.hprebn
    bndiff, bndiff2, bnvar, bnvar_inv, bnraw = fwd.bndiff, fwd.bndiff2, fwd.bnvar, fwd.bnvar_inv, fwd.bnraw
    h, logits = fwd.h, fwd.logits
    counts, counts_sum, counts_sum_inv = fwd.counts, fwd.counts_sum, fwd.counts_sum_inv
    probs, logprobs = fwd.probs, fwd.logprobs

    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = (-(counts_sum**-2)) * dcounts_sum_inv
    dcounts += torch.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
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
    dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar
    dbndiff += (2 * bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0, keepdim=True)
    dhprebn += 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)
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
