"""Backprop ninja, exercise 1.

One function per forward line, then manual_backward chains them together
(accumulating wherever a variable is used twice in the forward pass).
"""

import torch
import torch.nn.functional as F


def loss_backward(dloss, logprobs, Yb):
    """loss = -logprobs[range(n), Yb].mean()"""
    n, V = logprobs.shape
    return -dloss / n * F.one_hot(Yb, V).to(logprobs.dtype)


def logprobs_backward(dlogprobs, probs):
    """logprobs = probs.log()"""
    return dlogprobs / probs


def probs_backward(dprobs, counts, counts_sum_inv):
    """probs = counts * counts_sum_inv   (counts_sum_inv broadcast over columns)"""
    return dprobs * counts_sum_inv, (dprobs * counts).sum(dim=1, keepdim=True)


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    """counts_sum_inv = counts_sum**-1"""
    return -dcounts_sum_inv / counts_sum.pow(2)


def counts_sum_backward(dcounts_sum, counts):
    """counts_sum = counts.sum(1, keepdim=True)"""
    return dcounts_sum.expand_as(counts)


def counts_backward(dcounts, counts):
    """counts = norm_logits.exp()"""
    return dcounts * counts


def norm_logits_backward(dnorm_logits):
    """norm_logits = logits - logit_maxes"""
    return dnorm_logits, -dnorm_logits.sum(dim=1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    """logit_maxes = logits.max(1, keepdim=True).values"""
    idx = logits.max(dim=1, keepdim=True).indices
    return torch.zeros_like(logits).scatter_(1, idx, dlogit_maxes)


def logits_backward(dlogits, h, W2):
    """logits = h @ W2 + b2"""
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(dim=0)


def h_backward(dh, h):
    """h = tanh(hpreact)"""
    return dh * (1 - h * h)


def hpreact_backward(dhpreact, bngain, bnraw):
    """hpreact = bngain * bnraw + bnbias"""
    dbngain = (dhpreact * bnraw).sum(dim=0, keepdim=True)
    dbnraw = dhpreact * bngain
    dbnbias = dhpreact.sum(dim=0, keepdim=True)
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    """bnraw = bndiff * bnvar_inv"""
    return dbnraw * bnvar_inv, (dbnraw * bndiff).sum(dim=0, keepdim=True)


def bnvar_inv_backward(dbnvar_inv, bnvar):
    """bnvar_inv = (bnvar + 1e-5)**-0.5"""
    return dbnvar_inv * -0.5 * (bnvar + 1e-5).pow(-1.5)


def bnvar_backward(dbnvar, bndiff2):
    """bnvar = 1/(n-1) * bndiff2.sum(0, keepdim=True)"""
    n = bndiff2.shape[0]
    return (dbnvar / (n - 1)).expand_as(bndiff2)


def bndiff2_backward(dbndiff2, bndiff):
    """bndiff2 = bndiff**2"""
    return 2 * bndiff * dbndiff2


def bndiff_backward(dbndiff):
    """bndiff = hprebn - bnmeani"""
    return dbndiff, -dbndiff.sum(dim=0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):
    """bnmeani = 1/n * hprebn.sum(0, keepdim=True)"""
    n = hprebn.shape[0]
    return (dbnmeani / n).expand_as(hprebn)


def hprebn_backward(dhprebn, embcat, W1):
    """hprebn = embcat @ W1 + b1"""
    return dhprebn @ W1.T, embcat.T @ dhprebn, dhprebn.sum(dim=0)


def embcat_backward(dembcat, emb):
    """embcat = emb.view(n, -1)"""
    return dembcat.reshape(emb.shape)


def emb_backward(demb, C, Xb):
    """emb = C[Xb]"""
    E = C.shape[1]
    dC = torch.zeros_like(C)
    dC.index_add_(0, Xb.flatten(), demb.reshape(-1, E))
    return dC


def manual_backward(fwd):
    one = torch.ones_like(fwd.loss)  # dloss/dloss
    g = {}
    g["logprobs"] = loss_backward(one, fwd.logprobs, fwd.Yb)
    g["probs"] = logprobs_backward(g["logprobs"], fwd.probs)
    dcounts_a, g["counts_sum_inv"] = probs_backward(g["probs"], fwd.counts, fwd.counts_sum_inv)
    g["counts_sum"] = counts_sum_inv_backward(g["counts_sum_inv"], fwd.counts_sum)
    g["counts"] = dcounts_a + counts_sum_backward(g["counts_sum"], fwd.counts)
    g["norm_logits"] = counts_backward(g["counts"], fwd.counts)
    dlogits_a, g["logit_maxes"] = norm_logits_backward(g["norm_logits"])
    g["logits"] = dlogits_a + logit_maxes_backward(g["logit_maxes"], fwd.logits)
    g["h"], g["W2"], g["b2"] = logits_backward(g["logits"], fwd.h, fwd.W2)
    g["hpreact"] = h_backward(g["h"], fwd.h)
    g["bngain"], g["bnraw"], g["bnbias"] = hpreact_backward(g["hpreact"], fwd.bngain, fwd.bnraw)
    dbndiff_a, g["bnvar_inv"] = bnraw_backward(g["bnraw"], fwd.bndiff, fwd.bnvar_inv)
    g["bnvar"] = bnvar_inv_backward(g["bnvar_inv"], fwd.bnvar)
    g["bndiff2"] = bnvar_backward(g["bnvar"], fwd.bndiff2)
    g["bndiff"] = dbndiff_a + bndiff2_backward(g["bndiff2"], fwd.bndiff)
    dhprebn_a, g["bnmeani"] = bndiff_backward(g["bndiff"])
    g["hprebn"] = dhprebn_a + bnmeani_backward(g["bnmeani"], fwd.hprebn)
    g["embcat"], g["W1"], g["b1"] = hprebn_backward(g["hprebn"], fwd.embcat, fwd.W1)
    g["emb"] = embcat_backward(g["embcat"], fwd.emb)
    g["C"] = emb_backward(g["emb"], fwd.C, fwd.Xb)
    return g
