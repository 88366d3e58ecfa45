# Exercise 4: putting it all together!
# Train the MLP neural net with your own backward pass
import torch
import torch.nn.functional as F


def mlp_backward(fwd):
    n = fwd.n
    Xb, Yb = fwd.Xb, fwd.Yb
    # manual backprop! #swole_doge_meme
    # -----------------
    dlogits = F.softmax(fwd.logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    # 2nd layer backprop
    dh = dlogits @ fwd.W2.T
    dW2 = fwd.h.T @ dlogits
    db2 = dlogits.sum(0)
    # tanh
    dhpreact = (1.0 - fwd.h**2) * dh
    # batchnorm backprop
    dbngain = (fwd.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = fwd.bngain * fwd.bnvar_inv / n * (
        n * dhpreact - dhpreact.sum(0) - n / (n - 1) * fwd.bnraw * (dhpreact * fwd.bnraw).sum(0)
    )
    # 1st layer
    dembcat = dhprebn @ fwd.W1.T
    dW1 = fwd.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    # embedding
    dC = torch.zeros_like(fwd.C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    grads = [dC, dW1, db1, dW2, db2, dbngain, dbnbias]
    # -----------------
    return dict(zip(["C", "W1", "b1", "W2", "b2", "bngain", "bnbias"], grads))
