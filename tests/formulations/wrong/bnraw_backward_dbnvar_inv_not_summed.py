"""bnraw_backward forgets to sum dbnvar_inv over the batch: shape (n, H) instead of (1, H)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.bnraw_backward": ("dbnvar_inv",),
}
DIAGNOSIS = {
    "ex1.bnraw_backward": {"dbnvar_inv": "wrong_shape"},
}


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    return bnvar_inv * dbnraw, bndiff * dbnraw
