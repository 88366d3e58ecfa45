"""The fused batchnorm backward without the -d.sum(0) term that comes from the batch mean."""

MODULE = "ex3_batchnorm"
WRONG = {
    "ex3.batchnorm_backward": ("dhprebn",),
}
# Revised (issue 10): the fused batchnorm's paths (through the batch mean, through the
# batch variance) are now known to the diagnosis, as the chain's branches are.
DIAGNOSIS = {
    "ex3.batchnorm_backward": {"dhprebn": "missing_term"},
}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    n = dhpreact.shape[0]
    dhprebn = bngain * bnvar_inv / n * (n * dhpreact - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    return dhprebn, (bnraw * dhpreact).sum(0, keepdim=True), dhpreact.sum(0, keepdim=True)
