"""bnraw_backward averages over the batch instead of summing when collapsing the broadcast bnvar_inv: dbnvar_inv is 1/n too small."""

MODULE = "ex1_atomic"
WRONG = {"ex1.bnraw_backward": ("dbnvar_inv",)}
DIAGNOSIS = {"ex1.bnraw_backward": {"dbnvar_inv": "scaled"}}


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).mean(0, keepdim=True)
    return dbndiff, dbnvar_inv
