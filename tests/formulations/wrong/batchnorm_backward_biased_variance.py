"""The fused batchnorm backward with the biased variance: bnraw*(d*bnraw).sum(0) without the
n/(n-1) factor of the Bessel-corrected forward."""

MODULE = "ex3_batchnorm"
WRONG = {
    "ex3.batchnorm_backward": ("dhprebn",),
}
DIAGNOSIS = {
    "ex3.batchnorm_backward": {"dhprebn": "close_but_not_within_tolerance"},
}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - bnraw * (dhpreact * bnraw).sum(0))
    return dhprebn, (bnraw * dhpreact).sum(0, keepdim=True), dhpreact.sum(0, keepdim=True)
