"""makemore 4, exercise 1.
Rule I use: every .sum() gets keepdim=True so broadcasting never bites me.
"""

import torch
import torch.nn.functional as F


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    return dlogprobs * dloss


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
    idx = logits.max(1, keepdim=True).indices
    dlogits = torch.zeros_like(logits)
    dlogits.scatter_(1, idx, dlogit_maxes)
    return dlogits


def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0, keepdim=True)
    return dh, dW2, db2


def h_backward(dh, h):
    return dh * (1 - h**2)


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
    return dbnvar_inv * -0.5 * (bnvar + 1e-5) ** -1.5


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
    db1 = dhprebn.sum(0, keepdim=True)
    return dembcat, dW1, db1


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    dC.index_add_(0, Xb.view(-1), demb.view(-1, C.shape[1]))
    return dC


def manual_backward(fwd):
    d = {}
    d["logprobs"] = loss_backward(torch.tensor(1.0), fwd.logprobs, fwd.Yb)
    d["probs"] = logprobs_backward(d["logprobs"], fwd.probs)
    dcounts_1, d["counts_sum_inv"] = probs_backward(d["probs"], fwd.counts, fwd.counts_sum_inv)
    d["counts_sum"] = counts_sum_inv_backward(d["counts_sum_inv"], fwd.counts_sum)
    dcounts_2 = counts_sum_backward(d["counts_sum"], fwd.counts)
    d["counts"] = dcounts_1 + dcounts_2
    d["norm_logits"] = counts_backward(d["counts"], fwd.counts)
    dlogits_1, d["logit_maxes"] = norm_logits_backward(d["norm_logits"])
    dlogits_2 = logit_maxes_backward(d["logit_maxes"], fwd.logits)
    d["logits"] = dlogits_1 + dlogits_2
    d["h"], d["W2"], d["b2"] = logits_backward(d["logits"], fwd.h, fwd.W2)
    d["hpreact"] = h_backward(d["h"], fwd.h)
    d["bngain"], d["bnraw"], d["bnbias"] = hpreact_backward(d["hpreact"], fwd.bngain, fwd.bnraw)
    dbndiff_1, d["bnvar_inv"] = bnraw_backward(d["bnraw"], fwd.bndiff, fwd.bnvar_inv)
    d["bnvar"] = bnvar_inv_backward(d["bnvar_inv"], fwd.bnvar)
    d["bndiff2"] = bnvar_backward(d["bnvar"], fwd.bndiff2)
    dbndiff_2 = bndiff2_backward(d["bndiff2"], fwd.bndiff)
    d["bndiff"] = dbndiff_1 + dbndiff_2
    dhprebn_1, d["bnmeani"] = bndiff_backward(d["bndiff"])
    dhprebn_2 = bnmeani_backward(d["bnmeani"], fwd.hprebn)
    d["hprebn"] = dhprebn_1 + dhprebn_2
    d["embcat"], d["W1"], d["b1"] = hprebn_backward(d["hprebn"], fwd.embcat, fwd.W1)
    d["emb"] = embcat_backward(d["embcat"], fwd.emb)
    d["C"] = emb_backward(d["emb"], fwd.C, fwd.Xb)
    return d
