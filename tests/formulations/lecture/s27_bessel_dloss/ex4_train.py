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
    dhpreact = (1 - fwd.h * fwd.h) * dh
    dbngain = (fwd.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    # this time with the n/(n-1) from Bessel, the lecture's version
    dhprebn = fwd.bngain * fwd.bnvar_inv / n * (n * dhpreact - dbnbias - n / (n - 1) * fwd.bnraw * dbngain)
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    dC = torch.zeros_like(fwd.C)
    dC.index_add_(0, fwd.Xb.flatten(), dembcat.reshape(-1, fwd.C.shape[1]))
    return dict(C=dC, W1=dW1, b1=db1, W2=dW2, b2=db2, bngain=dbngain, bnbias=dbnbias)
