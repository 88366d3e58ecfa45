"""Chain mistake: the mean's 1/n hard-coded as 1/32, right only when the batch has 32 rows."""

import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {
    "ex1.manual_backward.logprobs": ("logprobs",),
    "ex1.manual_backward.probs": ("probs",),
    "ex1.manual_backward.counts_sum_inv": ("counts_sum_inv",),
    "ex1.manual_backward.counts_sum": ("counts_sum",),
    "ex1.manual_backward.counts": ("counts",),
    "ex1.manual_backward.norm_logits": ("norm_logits",),
    "ex1.manual_backward.logits": ("logits",),
    "ex1.manual_backward.h": ("h",),
    "ex1.manual_backward.W2": ("W2",),
    "ex1.manual_backward.b2": ("b2",),
    "ex1.manual_backward.hpreact": ("hpreact",),
    "ex1.manual_backward.bngain": ("bngain",),
    "ex1.manual_backward.bnbias": ("bnbias",),
    "ex1.manual_backward.bnraw": ("bnraw",),
    "ex1.manual_backward.bnvar_inv": ("bnvar_inv",),
    "ex1.manual_backward.bnvar": ("bnvar",),
    "ex1.manual_backward.bndiff2": ("bndiff2",),
    "ex1.manual_backward.bndiff": ("bndiff",),
    "ex1.manual_backward.bnmeani": ("bnmeani",),
    "ex1.manual_backward.hprebn": ("hprebn",),
    "ex1.manual_backward.embcat": ("embcat",),
    "ex1.manual_backward.W1": ("W1",),
    "ex1.manual_backward.emb": ("emb",),
    "ex1.manual_backward.C": ("C",),
}
# Revised (issue 10): the key that holds the 1/32 is size dependent; the keys after it
# follow from it, and are told to fix it first.
DIAGNOSIS = {
    "ex1.manual_backward.logprobs": {"logprobs": "size_dependent"},
    "ex1.manual_backward.probs": {"probs": "propagated"},
    "ex1.manual_backward.counts_sum_inv": {"counts_sum_inv": "propagated"},
    "ex1.manual_backward.counts_sum": {"counts_sum": "propagated"},
    "ex1.manual_backward.counts": {"counts": "propagated"},
    "ex1.manual_backward.norm_logits": {"norm_logits": "propagated"},
    "ex1.manual_backward.logits": {"logits": "propagated"},
    "ex1.manual_backward.h": {"h": "propagated"},
    "ex1.manual_backward.W2": {"W2": "propagated"},
    "ex1.manual_backward.b2": {"b2": "propagated"},
    "ex1.manual_backward.hpreact": {"hpreact": "propagated"},
    "ex1.manual_backward.bngain": {"bngain": "propagated"},
    "ex1.manual_backward.bnbias": {"bnbias": "propagated"},
    "ex1.manual_backward.bnraw": {"bnraw": "propagated"},
    "ex1.manual_backward.bnvar_inv": {"bnvar_inv": "propagated"},
    "ex1.manual_backward.bnvar": {"bnvar": "propagated"},
    "ex1.manual_backward.bndiff2": {"bndiff2": "propagated"},
    "ex1.manual_backward.bndiff": {"bndiff": "propagated"},
    "ex1.manual_backward.bnmeani": {"bnmeani": "propagated"},
    "ex1.manual_backward.hprebn": {"hprebn": "propagated"},
    "ex1.manual_backward.embcat": {"embcat": "propagated"},
    "ex1.manual_backward.W1": {"W1": "propagated"},
    "ex1.manual_backward.emb": {"emb": "propagated"},
    "ex1.manual_backward.C": {"C": "propagated"},
}
DIAGNOSIS = {
    "ex1.manual_backward.logprobs": {"logprobs": "size_dependent"},
    "ex1.manual_backward.probs": {"probs": "size_dependent"},
    "ex1.manual_backward.counts_sum_inv": {"counts_sum_inv": "size_dependent"},
    "ex1.manual_backward.counts_sum": {"counts_sum": "size_dependent"},
    "ex1.manual_backward.counts": {"counts": "size_dependent"},
    "ex1.manual_backward.norm_logits": {"norm_logits": "size_dependent"},
    "ex1.manual_backward.logits": {"logits": "size_dependent"},
    "ex1.manual_backward.h": {"h": "size_dependent"},
    "ex1.manual_backward.W2": {"W2": "size_dependent"},
    "ex1.manual_backward.b2": {"b2": "size_dependent"},
    "ex1.manual_backward.hpreact": {"hpreact": "size_dependent"},
    "ex1.manual_backward.bngain": {"bngain": "size_dependent"},
    "ex1.manual_backward.bnbias": {"bnbias": "size_dependent"},
    "ex1.manual_backward.bnraw": {"bnraw": "size_dependent"},
    "ex1.manual_backward.bnvar_inv": {"bnvar_inv": "size_dependent"},
    "ex1.manual_backward.bnvar": {"bnvar": "size_dependent"},
    "ex1.manual_backward.bndiff2": {"bndiff2": "size_dependent"},
    "ex1.manual_backward.bndiff": {"bndiff": "size_dependent"},
    "ex1.manual_backward.bnmeani": {"bnmeani": "size_dependent"},
    "ex1.manual_backward.hprebn": {"hprebn": "size_dependent"},
    "ex1.manual_backward.embcat": {"embcat": "size_dependent"},
    "ex1.manual_backward.W1": {"W1": "size_dependent"},
    "ex1.manual_backward.emb": {"emb": "size_dependent"},
    "ex1.manual_backward.C": {"C": "size_dependent"},
}


def manual_backward(fwd):
    n, Xb, Yb = fwd.n, fwd.Xb, fwd.Yb
    C, W1, W2, bngain = fwd.C, fwd.W1, fwd.W2, fwd.bngain
    emb, embcat, hprebn, bndiff, bndiff2 = fwd.emb, fwd.embcat, fwd.hprebn, fwd.bndiff, fwd.bndiff2
    bnvar, bnvar_inv, bnraw, h = fwd.bnvar, fwd.bnvar_inv, fwd.bnraw, fwd.h
    logits, counts, counts_sum, counts_sum_inv = (
        fwd.logits,
        fwd.counts,
        fwd.counts_sum,
        fwd.counts_sum_inv,
    )
    probs, logprobs = fwd.probs, fwd.logprobs

    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / 32
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
