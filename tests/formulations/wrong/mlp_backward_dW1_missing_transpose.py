"""mlp_backward with dW1 = dhprebn.T @ embcat, the transpose of the right gradient: shape (H,
B*E) instead of (B*E, H)."""

import torch
import torch.nn.functional as F

MODULE = "ex4_train"
WRONG = {
    "ex4.mlp_backward": ("W1",),
    "ex4.training": ("training",),
}
# Revised after review: first annotated wrong_shape, under a rule that put shapes before
# transposed; the values are exactly the answer transposed, which the transposed code names.
DIAGNOSIS = {
    "ex4.mlp_backward": {"W1": "transposed"},
    "ex4.training": {"training": "propagated"},
}


def mlp_backward(fwd):
    n, Xb, Yb = fwd.n, fwd.Xb, fwd.Yb
    C, W1, W2, bngain = fwd.C, fwd.W1, fwd.W2, fwd.bngain
    emb, embcat, bnvar_inv, bnraw, h, logits = (
        fwd.emb,
        fwd.embcat,
        fwd.bnvar_inv,
        fwd.bnraw,
        fwd.h,
        fwd.logits,
    )

    # cross-entropy, in one go (exercise 2)
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    # second layer
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    # tanh
    dhpreact = (1.0 - h**2) * dh
    # batchnorm, in one go (exercise 3)
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = (
        bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    )
    # first layer
    dembcat = dhprebn @ W1.T
    dW1 = dhprebn.T @ embcat
    db1 = dhprebn.sum(0)
    # embedding
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    dC.index_add_(0, Xb.view(-1), demb.view(-1, C.shape[1]))
    return {
        "C": dC,
        "W1": dW1,
        "b1": db1,
        "W2": dW2,
        "b2": db2,
        "bngain": dbngain,
        "bnbias": dbnbias,
    }
