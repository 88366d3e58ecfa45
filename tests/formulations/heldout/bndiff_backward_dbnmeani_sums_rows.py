"""bndiff_backward sums dbnmeani over the wrong axis (dim 1, the hidden units) and gets shape (n, 1) instead of (1, H)."""

MODULE = "ex1_atomic"
WRONG = {"ex1.bndiff_backward": ("dbnmeani",)}
DIAGNOSIS = {"ex1.bndiff_backward": {"dbnmeani": "wrong_shape"}}


def bndiff_backward(dbndiff):
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(1, keepdim=True)
    return dhprebn, dbnmeani
