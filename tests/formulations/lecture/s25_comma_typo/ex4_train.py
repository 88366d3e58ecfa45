"""Exercise 4 -- the full backward pass for training (same as the lecture's cell)."""
import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n = fwd.n
    C, Xb, Yb = fwd.C, fwd.Xb, fwd.Yb
    emb, embcat, h, logits = fwd.emb, fwd.embcat, fwd.h, fwd.logits
    bnraw, bnvar_inv, bngain = fwd.bnraw, fwd.bnvar_inv, fwd.bngain

    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    # 2nd layer backprop
    dh = dlogits @ fwd.W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    # tanh
    dhpreact = (1.0 - h**2) * dh
    # batchnorm backprop
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    # 1st layer
    dembcat = dhprebn @ fwd.W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    # embedding
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
