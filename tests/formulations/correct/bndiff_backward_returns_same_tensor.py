"""bndiff_backward returning dbndiff itself as dhprebn and the negated batch sum with keepdim
as dbnmeani; no argument is modified."""

MODULE = "ex1_atomic"
WRONG = {}


def bndiff_backward(dbndiff):
    return dbndiff, (-dbndiff).sum(0, keepdim=True)
