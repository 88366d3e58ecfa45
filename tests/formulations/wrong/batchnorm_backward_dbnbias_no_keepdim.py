"""The fused batchnorm backward with dbnbias = dhpreact.sum(0), shape (H,) instead of the (1,
H) of bnbias."""

MODULE = "ex3_batchnorm"
WRONG = {
    "ex3.batchnorm_backward": ("dbnbias",),
}
DIAGNOSIS = {
    "ex3.batchnorm_backward": {"dbnbias": "wrong_shape"},
}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dhprebn = (
        bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    )
    return dhprebn, (bnraw * dhpreact).sum(0, keepdim=True), dhpreact.sum(0)
