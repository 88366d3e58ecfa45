"""bndiff_backward with the lecture's dbnmeani = (-dbndiff).sum(0), shape (H,) instead of the
(1, H) of bnmeani."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.bndiff_backward": ("dbnmeani",),
}
DIAGNOSIS = {
    "ex1.bndiff_backward": {"dbnmeani": "wrong_shape"},
}


def bndiff_backward(dbndiff):
    return dbndiff.clone(), (-dbndiff).sum(0)
