"""hpreact_backward forgets to sum dbngain over the batch that bngain was broadcast along:
shape (n, H) instead of (1, H)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.hpreact_backward": ("dbngain",),
}
DIAGNOSIS = {
    "ex1.hpreact_backward": {"dbngain": "wrong_shape"},
}


def hpreact_backward(dhpreact, bngain, bnraw):
    return bnraw * dhpreact, bngain * dhpreact, dhpreact.sum(0, keepdim=True)
