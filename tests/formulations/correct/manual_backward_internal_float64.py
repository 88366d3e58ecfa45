"""The lecture's chain computed in float64 from float64 copies of the forward values, returning
float64 gradients (plus an extra key, which the spec says is ignored)."""

import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {}


def manual_backward(fwd):
    n = fwd.n

    def d(name):
        return getattr(fwd, name).double()

    logprobs, probs, counts, counts_sum, counts_sum_inv = (
        d("logprobs"),
        d("probs"),
        d("counts"),
        d("counts_sum"),
        d("counts_sum_inv"),
    )
    logits, h, W2, bnraw, bngain = d("logits"), d("h"), d("W2"), d("bnraw"), d("bngain")
    bndiff, bnvar, bnvar_inv, bndiff2, hprebn = (
        d("bndiff"),
        d("bnvar"),
        d("bnvar_inv"),
        d("bndiff2"),
        d("hprebn"),
    )
    embcat, W1, emb, C = d("embcat"), d("W1"), d("emb"), d("C")
    Xb, Yb = fwd.Xb, fwd.Yb

    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts_sum = (-(counts_sum**-2)) * dcounts_sum_inv
    dcounts = counts_sum_inv * dprobs + torch.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits = dnorm_logits + F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h**2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar
    dbndiff = bnvar_inv * dbnraw + (2 * bndiff) * dbndiff2
    dbnmeani = (-dbndiff).sum(0, keepdim=True)
    dhprebn = dbndiff + 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C).index_add_(0, Xb.view(-1), demb.view(-1, C.shape[1]))
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
        "loss": torch.tensor(1.0, dtype=torch.float64),
    }
