"""The fused batchnorm backward forgets the bngain factor of hpreact = bngain * bnraw + bnbias."""

MODULE = "ex3_batchnorm"
WRONG = {
    "ex3.batchnorm_backward": ("dhprebn",),
}
DIAGNOSIS = {
    "ex3.batchnorm_backward": {"dhprebn": "unknown"},
}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dhprebn = bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    return dhprebn, (bnraw * dhpreact).sum(0, keepdim=True), dhpreact.sum(0, keepdim=True)
