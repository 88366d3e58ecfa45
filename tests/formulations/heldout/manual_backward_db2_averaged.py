"""A whole manual_backward that averages db2 over the batch (dlogits.mean(0)) although dlogits already carries the loss's 1/n."""

import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {
    "ex1.manual_backward.b2": ("b2",),
}
DIAGNOSIS = {
    "ex1.manual_backward.b2": {"b2": "scaled"},
}


def manual_backward(fwd):
    f = fwd
    n = f.n
    dlogprobs = torch.zeros_like(f.logprobs)
    dlogprobs[range(n), f.Yb] = -1.0 / n
    dprobs = (1.0 / f.probs) * dlogprobs
    dcounts_sum_inv = (f.counts * dprobs).sum(1, keepdim=True)
    dcounts = f.counts_sum_inv * dprobs
    dcounts_sum = (-(f.counts_sum**-2)) * dcounts_sum_inv
    dcounts += torch.ones_like(f.counts) * dcounts_sum
    dnorm_logits = f.counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(f.logits.max(1).indices, num_classes=f.logits.shape[1]) * dlogit_maxes
    dh = dlogits @ f.W2.T
    dW2 = f.h.T @ dlogits
    db2 = dlogits.mean(0)
    dhpreact = (1.0 - f.h**2) * dh
    dbngain = (f.bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = f.bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = f.bnvar_inv * dbnraw
    dbnvar_inv = (f.bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 * (f.bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(f.bndiff2) * dbnvar
    dbndiff += (2 * f.bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0, keepdim=True)
    dhprebn += 1.0 / n * torch.ones_like(f.hprebn) * dbnmeani
    dembcat = dhprebn @ f.W1.T
    dW1 = f.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(f.emb.shape)
    dC = torch.zeros_like(f.C)
    for k in range(f.Xb.shape[0]):
        for j in range(f.Xb.shape[1]):
            dC[f.Xb[k, j]] += demb[k, j]
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
