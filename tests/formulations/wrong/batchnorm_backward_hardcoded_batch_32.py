"""The fused batchnorm backward with n hard-coded as 32, wrong for every other batch size."""

MODULE = "ex3_batchnorm"
WRONG = {
    "ex3.batchnorm_backward": ("dhprebn",),
}
DIAGNOSIS = {
    "ex3.batchnorm_backward": {"dhprebn": "size_dependent"},
}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = 32
    dhprebn = (
        bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    )
    return dhprebn, (bnraw * dhpreact).sum(0, keepdim=True), dhpreact.sum(0, keepdim=True)
