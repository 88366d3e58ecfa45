import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n = fwd.n
    V, E = fwd.C.shape
    dlogits = torch.softmax(fwd.logits, dim=1)
    dlogits[range(n), fwd.Yb] -= 1
    dlogits /= n
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - fwd.h**2) * dh
    dbngain = (fwd.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = fwd.bngain * fwd.bnvar_inv / n * (n * dhpreact - dbnbias - n / (n - 1) * fwd.bnraw * dbngain)
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    dC = F.one_hot(fwd.Xb.view(-1), V).float().T @ dembcat.view(-1, E)
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
