import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n = fwd.n
    C, W1, W2, bngain = fwd.C, fwd.W1, fwd.W2, fwd.bngain
    Xb, Yb = fwd.Xb, fwd.Yb
    dlogits = F.softmax(fwd.logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    dh = dlogits @ W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - fwd.h**2) * dh
    dbngain = (fwd.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = n * dhpreact
    dhprebn -= dbnbias
    dhprebn -= n / (n - 1) * fwd.bnraw * dbngain
    dhprebn *= bngain * fwd.bnvar_inv / n
    dembcat = dhprebn @ W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(fwd.emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
