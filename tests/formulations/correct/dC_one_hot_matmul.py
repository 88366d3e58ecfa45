"""emb_backward as one_hot(Xb).T @ demb on the flattened (n*B) positions, the matrix form of
the scatter-add."""

import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {}


def emb_backward(demb, C, Xb):
    V, E = C.shape
    return F.one_hot(Xb.view(-1), num_classes=V).float().T @ demb.view(-1, E)
