"""The lecture's fused batchnorm backward computed in float64 and returned as a list of float64
tensors."""

MODULE = "ex3_batchnorm"
WRONG = {}


def batchnorm_backward(dhpreact, bnraw, bnvar_inv, bngain):
    d, r, inv, g = dhpreact.double(), bnraw.double(), bnvar_inv.double(), bngain.double()
    n = d.shape[0]
    dhprebn = g * inv / n * (n * d - d.sum(0) - n / (n - 1) * r * (d * r).sum(0))
    return [dhprebn, (r * d).sum(0, keepdim=True), d.sum(0, keepdim=True)]
