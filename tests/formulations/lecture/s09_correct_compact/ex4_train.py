import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n = fwd.n
    V, E = fwd.C.shape
    y = torch.zeros_like(fwd.logits).scatter_(1, fwd.Yb.unsqueeze(1), 1.0)
    dlogits = (fwd.logits.softmax(-1) - y) / n
    dh, dW2, db2 = dlogits @ fwd.W2.t(), fwd.h.t() @ dlogits, dlogits.sum(0)
    dhpreact = dh - dh * fwd.h**2
    dbngain = (dhpreact * fwd.bnraw).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbnraw = dhpreact * fwd.bngain
    dhprebn = (fwd.bnvar_inv / n) * (n * dbnraw - dbnraw.sum(0) - n / (n - 1) * fwd.bnraw * (dbnraw * fwd.bnraw).sum(0))
    dembcat, dW1, db1 = dhprebn @ fwd.W1.t(), fwd.embcat.t() @ dhprebn, dhprebn.sum(0)
    dC = F.one_hot(fwd.Xb.view(-1), V).float().t() @ dembcat.view(-1, E)
    return dict(C=dC, W1=dW1, b1=db1, W2=dW2, b2=db2, bngain=dbngain, bnbias=dbnbias)
