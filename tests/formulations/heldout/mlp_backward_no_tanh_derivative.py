"""mlp_backward passes dh straight through the tanh (dhpreact = dh), forgetting the local derivative 1 - h**2."""

import torch

MODULE = "ex4_train"
WRONG = {
    "ex4.mlp_backward": (
        "C",
        "W1",
        "bngain",
        "bnbias",
    ),
    "ex4.training": ("training",),
}
DIAGNOSIS = {
    "ex4.mlp_backward": {"C": "unknown", "W1": "unknown", "bngain": "unknown", "bnbias": "unknown"},
    "ex4.training": {"training": "propagated"},
}


def mlp_backward(fwd):
    f = fwd
    n = f.n
    dlogits = torch.softmax(f.logits, 1)
    dlogits[range(n), f.Yb] -= 1
    dlogits /= n
    dh = dlogits @ f.W2.T
    dW2 = f.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = dh
    dbngain = (f.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = (
        f.bngain
        * f.bnvar_inv
        / n
        * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * f.bnraw * (dhpreact * f.bnraw).sum(0))
    )
    dembcat = dhprebn @ f.W1.T
    dW1 = f.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(f.emb.shape)
    dC = torch.zeros_like(f.C)
    for k in range(f.Xb.shape[0]):
        for j in range(f.Xb.shape[1]):
            dC[f.Xb[k, j]] += demb[k, j]
    return {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
