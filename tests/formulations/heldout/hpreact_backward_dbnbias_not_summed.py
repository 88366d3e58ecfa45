"""hpreact_backward passes dhpreact straight through as dbnbias, forgetting that bnbias (1, H) was broadcast over the batch."""

MODULE = "ex1_atomic"
WRONG = {"ex1.hpreact_backward": ("dbnbias",)}
DIAGNOSIS = {"ex1.hpreact_backward": {"dbnbias": "wrong_shape"}}


def hpreact_backward(dhpreact, bngain, bnraw):
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.clone()
    return dbngain, dbnraw, dbnbias
