import torch
import torch.nn.functional as F


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[torch.arange(n), Yb] = -dloss / n
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    return dlogprobs / probs


def probs_backward(dprobs, counts, counts_sum_inv):
    return dprobs * counts_sum_inv, (dprobs * counts).sum(1, keepdim=True)


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -dcounts_sum_inv / counts_sum**2


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum.expand_as(counts).clone()


def counts_backward(dcounts, counts):
    return dcounts * counts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), -dnorm_logits.sum(1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    dlogits = torch.zeros_like(logits)
    dlogits.scatter_(1, logits.argmax(1, keepdim=True), dlogit_maxes)
    return dlogits


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)


def h_backward(dh, h):
    return dh * (1 - h**2)


def hpreact_backward(dhpreact, bngain, bnraw):
    return (dhpreact * bnraw).sum(0, keepdim=True), dhpreact * bngain, dhpreact.sum(0, keepdim=True)


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    return dbnraw * bnvar_inv, (dbnraw * bndiff).sum(0, keepdim=True)


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv


def bnvar_backward(dbnvar, bndiff2):
    return dbnvar.expand_as(bndiff2) / (bndiff2.shape[0] - 1)


def bndiff2_backward(dbndiff2, bndiff):
    return 2 * bndiff * dbndiff2


def bndiff_backward(dbndiff):
    return dbndiff.clone(), -dbndiff.sum(0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):
    return dbnmeani.expand_as(hprebn) / hprebn.shape[0]


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1.T, embcat.T @ dhprebn, dhprebn.sum(0)


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    # accumulate in double so repeated tokens add up exactly
    dC = torch.zeros(C.shape, dtype=torch.float64)
    dC.index_add_(0, Xb.view(-1), demb.view(-1, C.shape[1]))
    return dC.float()


def manual_backward(fwd):
    f, n = fwd, fwd.n
    d = {}
    d["logprobs"] = torch.zeros_like(f.logprobs)
    d["logprobs"][torch.arange(n), f.Yb] = -1.0 / n
    d["probs"] = d["logprobs"] / f.probs
    d["counts_sum_inv"] = (d["probs"] * f.counts).sum(1, keepdim=True)
    d["counts_sum"] = -d["counts_sum_inv"] / f.counts_sum**2
    d["counts"] = d["probs"] * f.counts_sum_inv + d["counts_sum"].expand_as(f.counts)
    d["norm_logits"] = d["counts"] * f.counts
    d["logit_maxes"] = -d["norm_logits"].sum(1, keepdim=True)
    d["logits"] = d["norm_logits"].clone()
    d["logits"].scatter_add_(1, f.logits.argmax(1, keepdim=True), d["logit_maxes"])
    d["h"] = d["logits"] @ f.W2.T
    d["W2"] = f.h.T @ d["logits"]
    d["b2"] = d["logits"].sum(0)
    d["hpreact"] = d["h"] * (1 - f.h**2)
    d["bngain"] = (d["hpreact"] * f.bnraw).sum(0, keepdim=True)
    d["bnraw"] = d["hpreact"] * f.bngain
    d["bnbias"] = d["hpreact"].sum(0, keepdim=True)
    d["bnvar_inv"] = (d["bnraw"] * f.bndiff).sum(0, keepdim=True)
    d["bnvar"] = -0.5 * (f.bnvar + 1e-5) ** -1.5 * d["bnvar_inv"]
    d["bndiff2"] = d["bnvar"].expand_as(f.bndiff2) / (n - 1)
    d["bndiff"] = d["bnraw"] * f.bnvar_inv + 2 * f.bndiff * d["bndiff2"]
    d["bnmeani"] = -d["bndiff"].sum(0, keepdim=True)
    d["hprebn"] = d["bndiff"] + d["bnmeani"].expand_as(f.hprebn) / n
    d["embcat"] = d["hprebn"] @ f.W1.T
    d["W1"] = f.embcat.T @ d["hprebn"]
    d["b1"] = d["hprebn"].sum(0)
    d["emb"] = d["embcat"].view(f.emb.shape)
    d["C"] = torch.zeros_like(f.C).index_add_(0, f.Xb.view(-1), d["emb"].view(-1, f.C.shape[1]))
    return d
