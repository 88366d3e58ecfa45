"""bndiff2_backward as bndiff * 2 * dbndiff2, the square's derivative in another operand order."""
import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {}


def bndiff2_backward(dbndiff2, bndiff):
    return bndiff * 2.0 * dbndiff2
