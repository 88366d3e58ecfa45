"""bndiff2_backward as bndiff * 2 * dbndiff2, the square's derivative in another operand order."""

MODULE = "ex1_atomic"
WRONG = {}


def bndiff2_backward(dbndiff2, bndiff):
    return bndiff * 2.0 * dbndiff2
