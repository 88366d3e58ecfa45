"""batchnorm_backward drops the bnvar_inv factor in front of the fused dhprebn formula, as if the normalisation only subtracted the mean."""

MODULE = "ex3_batchnorm"
WRONG = {"ex3.batchnorm_backward": ("dhprebn",)}
DIAGNOSIS = {"ex3.batchnorm_backward": {"dhprebn": "unknown"}}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = bngain / n * (n * dhpreact - dbnbias - n / (n - 1) * bnraw * dbngain)
    return dhprebn, dbngain, dbnbias
