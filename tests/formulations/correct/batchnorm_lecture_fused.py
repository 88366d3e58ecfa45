"""The lecture's one-line batchnorm backward, dhprebn = bngain*bnvar_inv/n * (n*d - d.sum(0) -
n/(n-1)*bnraw*(d*bnraw).sum(0)), with keepdim sums for the parameters."""

MODULE = "ex3_batchnorm"
WRONG = {}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dhprebn = (
        bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    )
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dhprebn, dbngain, dbnbias
