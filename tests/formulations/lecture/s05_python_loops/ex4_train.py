import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n = fwd.n
    Xb, Yb = fwd.Xb, fwd.Yb
    dlogits = F.softmax(fwd.logits, 1)
    for i in range(n):
        dlogits[i, Yb[i]] -= 1
    dlogits = dlogits / n
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1 - fwd.h**2) * dh
    dbngain = (fwd.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = (
        fwd.bngain
        * fwd.bnvar_inv
        / n
        * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * fwd.bnraw * (dhpreact * fwd.bnraw).sum(0))
    )
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(fwd.emb.shape)
    dC = torch.zeros_like(fwd.C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
