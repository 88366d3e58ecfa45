"""Exercise 4: full backward pass for the training loop, no autograd."""

import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n, V = fwd.logits.shape
    E = fwd.C.shape[1]
    dlogits = (torch.softmax(fwd.logits, dim=1) - F.one_hot(fwd.Yb, V)) / n
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(dim=0)
    dhpreact = dh * (1 - fwd.h * fwd.h)
    dbnbias = dhpreact.sum(dim=0, keepdim=True)
    dbngain = (dhpreact * fwd.bnraw).sum(dim=0, keepdim=True)
    dhprebn = fwd.bngain * fwd.bnvar_inv * (dhpreact - dbnbias / n - fwd.bnraw * dbngain / (n - 1))
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(dim=0)
    dC = torch.zeros_like(fwd.C).index_add_(0, fwd.Xb.flatten(), dembcat.reshape(-1, E))
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
