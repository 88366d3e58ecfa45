"""batchnorm_backward forgets to sum dbngain over the batch and reuses the unsummed (n, H) product in the variance term of dhprebn too."""

MODULE = "ex3_batchnorm"
WRONG = {"ex3.batchnorm_backward": ("dhprebn", "dbngain")}
DIAGNOSIS = {"ex3.batchnorm_backward": {"dhprebn": "unknown", "dbngain": "wrong_shape"}}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dbngain = bnraw * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dbnbias - n / (n - 1) * bnraw * dbngain)
    return dhprebn, dbngain, dbnbias
