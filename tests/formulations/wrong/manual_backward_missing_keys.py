"""The lecture's chain that forgets to put two intermediates (counts_sum_inv and bnmeani) in
the returned dict: each missing key scores zero on its own, every other key is right."""

import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {
    "ex1.manual_backward.counts_sum_inv": ("counts_sum_inv",),
    "ex1.manual_backward.bnmeani": ("bnmeani",),
}
# Revised (issue 10): a key missing from the returned dict has its own code now.
DIAGNOSIS = {
    "ex1.manual_backward.counts_sum_inv": {"counts_sum_inv": "missing"},
    "ex1.manual_backward.bnmeani": {"bnmeani": "missing"},
}


def manual_backward(fwd):
    n, Xb, Yb = fwd.n, fwd.Xb, fwd.Yb
    g = {}
    dlogprobs = torch.zeros_like(fwd.logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / fwd.probs) * dlogprobs
    dcounts_sum_inv = (fwd.counts * dprobs).sum(1, keepdim=True)
    dcounts_sum = (-(fwd.counts_sum**-2)) * dcounts_sum_inv
    dcounts = fwd.counts_sum_inv * dprobs + torch.ones_like(fwd.counts) * dcounts_sum
    dnorm_logits = fwd.counts * dcounts
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits = dnorm_logits + F.one_hot(fwd.logits.max(1).indices, num_classes=fwd.logits.shape[1]) * dlogit_maxes
    dhpreact = (1.0 - fwd.h**2) * (dlogits @ fwd.W2.T)
    dbnraw = fwd.bngain * dhpreact
    dbnvar_inv = (fwd.bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 * (fwd.bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(fwd.bndiff2) * dbnvar
    dbndiff = fwd.bnvar_inv * dbnraw + (2 * fwd.bndiff) * dbndiff2
    dbnmeani = (-dbndiff).sum(0, keepdim=True)
    dhprebn = dbndiff + 1.0 / n * (torch.ones_like(fwd.hprebn) * dbnmeani)
    dembcat = dhprebn @ fwd.W1.T
    demb = dembcat.view(fwd.emb.shape)
    dC = torch.zeros_like(fwd.C).index_add_(0, Xb.view(-1), demb.view(-1, fwd.C.shape[1]))
    g.update(
        logprobs=dlogprobs,
        probs=dprobs,
        counts_sum=dcounts_sum,
        counts=dcounts,
        norm_logits=dnorm_logits,
        logit_maxes=dlogit_maxes,
        logits=dlogits,
        h=dlogits @ fwd.W2.T,
        W2=fwd.h.T @ dlogits,
        b2=dlogits.sum(0),
        hpreact=dhpreact,
        bngain=(fwd.bnraw * dhpreact).sum(0, keepdim=True),
        bnbias=dhpreact.sum(0, keepdim=True),
        bnraw=dbnraw,
        bnvar_inv=dbnvar_inv,
        bnvar=dbnvar,
        bndiff2=dbndiff2,
        bndiff=dbndiff,
        hprebn=dhprebn,
        embcat=dembcat,
        W1=fwd.embcat.T @ dhprebn,
        b1=dhprebn.sum(0),
        emb=demb,
        C=dC,
    )
    return g
