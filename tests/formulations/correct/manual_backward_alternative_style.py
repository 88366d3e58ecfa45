"""The whole chain in another style: one-hot masks, divisions, einsum for the matmuls,
out-of-place accumulation of every branch, and index_put_ with accumulate for dC."""

import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {}


def manual_backward(fwd):
    f = fwd
    n, V = f.logits.shape
    g = {}
    g["logprobs"] = -F.one_hot(f.Yb, V).float() / n
    g["probs"] = g["logprobs"] / f.probs
    g["counts_sum_inv"] = torch.einsum("nv,nv->n", f.counts, g["probs"]).unsqueeze(1)
    g["counts_sum"] = -g["counts_sum_inv"] / f.counts_sum**2
    g["counts"] = g["probs"] * f.counts_sum_inv + g["counts_sum"].expand(n, V)
    g["norm_logits"] = g["counts"] * f.counts
    g["logit_maxes"] = -g["norm_logits"].sum(1, keepdim=True)
    at_max = torch.zeros_like(f.logits).scatter_(1, f.logits.argmax(1, keepdim=True), 1.0)
    g["logits"] = g["norm_logits"] + at_max * g["logit_maxes"]
    g["h"] = torch.einsum("nv,hv->nh", g["logits"], f.W2)
    g["W2"] = torch.einsum("nh,nv->hv", f.h, g["logits"])
    g["b2"] = g["logits"].sum(0)
    g["hpreact"] = g["h"] * (1 - f.h) * (1 + f.h)
    g["bngain"] = (g["hpreact"] * f.bnraw).sum(0, keepdim=True)
    g["bnbias"] = g["hpreact"].sum(0, keepdim=True)
    g["bnraw"] = g["hpreact"] * f.bngain
    g["bnvar_inv"] = (g["bnraw"] * f.bndiff).sum(0, keepdim=True)
    g["bnvar"] = -0.5 * torch.rsqrt(f.bnvar + 1e-5) ** 3 * g["bnvar_inv"]
    g["bndiff2"] = (g["bnvar"] / (n - 1)).expand_as(f.bndiff2)
    g["bndiff"] = g["bnraw"] * f.bnvar_inv + 2 * f.bndiff * g["bndiff2"]
    g["bnmeani"] = -g["bndiff"].sum(0, keepdim=True)
    g["hprebn"] = g["bndiff"] + g["bnmeani"] / n
    g["embcat"] = torch.einsum("nh,kh->nk", g["hprebn"], f.W1)
    g["W1"] = torch.einsum("nk,nh->kh", f.embcat, g["hprebn"])
    g["b1"] = g["hprebn"].sum(0)
    g["emb"] = g["embcat"].view(f.emb.shape)
    g["C"] = torch.zeros(f.C.shape).index_put_((f.Xb,), g["emb"], accumulate=True)
    return g
