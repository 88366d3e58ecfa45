# Exercise 1 -- I wrote most of these with explicit loops first so I could
# see exactly which entry gets which gradient. Vectorize later.
import torch
import torch.nn.functional as F

block_size = 3  # context length, from the dataset cell


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    for i in range(n):
        dlogprobs[i, Yb[i]] = -dloss / n
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    return dlogprobs / probs


def probs_backward(dprobs, counts, counts_sum_inv):
    n = counts.shape[0]
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = torch.zeros_like(counts_sum_inv)
    for i in range(n):
        dcounts_sum_inv[i, 0] = (counts[i] * dprobs[i]).sum()
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -1.0 / counts_sum**2 * dcounts_sum_inv


def counts_sum_backward(dcounts_sum, counts):
    dcounts = torch.zeros_like(counts)
    for i in range(counts.shape[0]):
        dcounts[i, :] = dcounts_sum[i, 0]  # every term of row i gets the row's gradient
    return dcounts


def counts_backward(dcounts, counts):
    return counts * dcounts


def norm_logits_backward(dnorm_logits):
    n = dnorm_logits.shape[0]
    dlogits = dnorm_logits.clone()
    dlogit_maxes = torch.zeros(n, 1)
    for i in range(n):
        dlogit_maxes[i, 0] = -dnorm_logits[i].sum()
    return dlogits, dlogit_maxes


def logit_maxes_backward(dlogit_maxes, logits):
    n, V = logits.shape
    dlogits = torch.zeros_like(logits)
    for i in range(n):
        m = logits[i].max()
        for j in range(V):
            if logits[i, j] == m:  # this is where the max came from
                dlogits[i, j] = dlogit_maxes[i, 0]
    return dlogits


def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = torch.zeros(dlogits.shape[1])
    for j in range(dlogits.shape[1]):
        db2[j] = dlogits[:, j].sum()
    return dh, dW2, db2


def h_backward(dh, h):
    return (1 - h**2) * dh


def hpreact_backward(dhpreact, bngain, bnraw):
    H = dhpreact.shape[1]
    dbngain = torch.zeros(1, H)
    dbnbias = torch.zeros(1, H)
    for j in range(H):
        dbngain[0, j] = (bnraw[:, j] * dhpreact[:, j]).sum()
        dbnbias[0, j] = dhpreact[:, j].sum()
    dbnraw = bngain * dhpreact
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    return dbndiff, dbnvar_inv


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return torch.ones_like(bndiff2) * dbnvar / (n - 1)


def bndiff2_backward(dbndiff2, bndiff):
    return 2 * bndiff * dbndiff2


def bndiff_backward(dbndiff):
    dhprebn = dbndiff.clone()
    dbnmeani = torch.zeros(1, dbndiff.shape[1])
    for i in range(dbndiff.shape[0]):
        dbnmeani -= dbndiff[i]
    return dhprebn, dbnmeani


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    return torch.ones_like(hprebn) * dbnmeani / n


def hprebn_backward(dhprebn, embcat, W1):
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = torch.zeros(dhprebn.shape[1])
    for i in range(dhprebn.shape[0]):
        db1 += dhprebn[i]
    return dembcat, dW1, db1


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(block_size):
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
    dprobs = dlogprobs / probs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = -1.0 / counts_sum**2 * dcounts_sum_inv
    dcounts += torch.ones_like(counts) * dcounts_sum
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
            ix = Xb[k, j]
            dC[ix] += demb[k, j]

    out = {}
    out["logprobs"] = dlogprobs
    out["probs"] = dprobs
    out["counts_sum_inv"] = dcounts_sum_inv
    out["counts_sum"] = dcounts_sum
    out["counts"] = dcounts
    out["norm_logits"] = dnorm_logits
    out["logit_maxes"] = dlogit_maxes
    out["logits"] = dlogits
    out["h"] = dh
    out["W2"] = dW2
    out["b2"] = db2
    out["hpreact"] = dhpreact
    out["bngain"] = dbngain
    out["bnbias"] = dbnbias
    out["bnraw"] = dbnraw
    out["bnvar_inv"] = dbnvar_inv
    out["bnvar"] = dbnvar
    out["bndiff2"] = dbndiff2
    out["bndiff"] = dbndiff
    out["bnmeani"] = dbnmeani
    out["hprebn"] = dhprebn
    out["embcat"] = dembcat
    out["W1"] = dW1
    out["b1"] = db1
    out["emb"] = demb
    out["C"] = dC
    return out
