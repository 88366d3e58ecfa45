"""bndiff2_backward drops the 2 of d(x**2)/dx = 2x."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.bndiff2_backward": ("dbndiff",),
}
DIAGNOSIS = {
    "ex1.bndiff2_backward": {"dbndiff": "scaled"},
}


def bndiff2_backward(dbndiff2, bndiff):
    return bndiff * dbndiff2
