import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n = fwd.n
    # cross entropy (exercise 2)
    dlogits = F.softmax(fwd.logits, 1)
    dlogits[range(n), fwd.Yb] -= 1
    dlogits /= n
    # second layer
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    # tanh
    dhpreact = (1.0 - fwd.h**2) * dh
    # batchnorm (exercise 3)
    dbngain = (fwd.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = fwd.bngain * fwd.bnvar_inv / n * (n * dhpreact - dbnbias - n / (n - 1) * fwd.bnraw * dbngain)
    # first layer
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    # embedding
    demb = dembcat.view(fwd.emb.shape)
    dC = torch.zeros_like(fwd.C)
    dC.index_add_(0, fwd.Xb.view(-1), demb.view(-1, fwd.C.shape[1]))
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
