import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n, V = fwd.logits.shape
    probs = F.log_softmax(fwd.logits, dim=1).exp()
    dlogits = (probs - F.one_hot(fwd.Yb, V).to(probs.dtype)) / n
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = dh * (1 - fwd.h) * (1 + fwd.h)
    dbngain = (dhpreact * fwd.bnraw).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = fwd.bngain * fwd.bnvar_inv * (dhpreact - dhpreact.mean(0, keepdim=True) - fwd.bnraw * dbngain / (n - 1))
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view_as(fwd.emb)
    dC = torch.zeros_like(fwd.C)
    for pos in range(fwd.Xb.shape[1]):
        dC.index_add_(0, fwd.Xb[:, pos], demb[:, pos])
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
