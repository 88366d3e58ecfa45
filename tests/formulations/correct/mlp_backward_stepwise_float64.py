"""mlp_backward computed in float64 step by step through every atomic op of the lecture's chain
(recomputing the softmax and batch statistics from the fused values), returned as float64."""

import torch

MODULE = "ex4_train"
WRONG = {}


def mlp_backward(fwd):
    n, Xb, Yb = fwd.n, fwd.Xb, fwd.Yb

    def d(t):
        return t.double()

    C, W1, W2, bngain = d(fwd.C), d(fwd.W1), d(fwd.W2), d(fwd.bngain)
    emb, embcat, hprebn, h, logits = (
        d(fwd.emb),
        d(fwd.embcat),
        d(fwd.hprebn),
        d(fwd.h),
        d(fwd.logits),
    )
    # recompute the forward pieces the fused pass does not keep
    bndiff = hprebn - hprebn.mean(0, keepdim=True)
    bnvar = (bndiff**2).sum(0, keepdim=True) / (n - 1)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    counts = (logits - logits.max(1, keepdim=True).values).exp()
    counts_sum = counts.sum(1, keepdim=True)
    probs = counts / counts_sum

    dlogprobs = torch.zeros_like(probs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = dlogprobs / probs
    dcounts = dprobs / counts_sum
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = dcounts - dcounts_sum_inv / counts_sum**2
    dlogits = counts * dcounts  # the logit_maxes branch adds exactly zero
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1 - h * h) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv
    dbndiff = bnvar_inv * dbnraw + 2 * bndiff * dbnvar / (n - 1)
    dhprebn = dbndiff - dbndiff.mean(0, keepdim=True)
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = (dhprebn @ W1.T).view(emb.shape)
    dC = torch.zeros_like(C).index_put_((Xb,), demb, accumulate=True)
    return {
        "C": dC,
        "W1": dW1,
        "b1": db1,
        "W2": dW2,
        "b2": db2,
        "bngain": dbngain,
        "bnbias": dbnbias,
    }
