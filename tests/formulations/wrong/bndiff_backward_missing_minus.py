"""bndiff_backward forgets that bnmeani is subtracted: dbnmeani = +sum instead of -sum."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.bndiff_backward": ("dbnmeani",),
}
DIAGNOSIS = {
    "ex1.bndiff_backward": {"dbnmeani": "sign"},
}


def bndiff_backward(dbndiff):
    return dbndiff.clone(), dbndiff.sum(0, keepdim=True)
