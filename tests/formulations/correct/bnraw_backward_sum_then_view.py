"""bnraw_backward reducing over the batch without keepdim and then restoring the (1, H) shape
with view."""

MODULE = "ex1_atomic"
WRONG = {}


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = dbnraw * bnvar_inv
    dbnvar_inv = (bndiff * dbnraw).sum(0).view(1, -1)
    return dbndiff, dbnvar_inv
