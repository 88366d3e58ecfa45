import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n = fwd.n
    dlogits = F.softmax(fwd.logits, 1)
    dlogits[range(n), fwd.Yb] -= 1
    dlogits /= n
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1 - fwd.h**2) * dh
    dbngain = (fwd.bnraw * dhpreact).sum(0)
    dbnbias = dhpreact.sum(0)
    dhprebn = fwd.bngain * fwd.bnvar_inv / n * (n * dhpreact - dbnbias - n / (n - 1) * fwd.bnraw * dbngain)
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(fwd.emb.shape)
    dC = torch.zeros_like(fwd.C)
    for k in range(fwd.Xb.shape[0]):
        for j in range(fwd.Xb.shape[1]):
            dC[fwd.Xb[k, j]] += demb[k, j]
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
