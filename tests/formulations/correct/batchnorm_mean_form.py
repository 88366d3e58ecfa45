"""Batchnorm backward in centred form: bngain*bnvar_inv * (d - mean(d) - bnraw *
sum(d*bnraw)/(n-1)), algebraically the lecture's formula."""

MODULE = "ex3_batchnorm"
WRONG = {}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbnraw = bngain * dhpreact
    dhprebn = bnvar_inv * (
        dbnraw - dbnraw.mean(0, keepdim=True) - bnraw * (dbnraw * bnraw).sum(0, keepdim=True) / (n - 1)
    )
    return dhprebn, (bnraw * dhpreact).sum(0, keepdim=True), dhpreact.sum(0, keepdim=True)
