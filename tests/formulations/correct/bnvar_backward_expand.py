"""bnvar_backward as (dbnvar / (n - 1)).expand(n, H): broadcasting the (1, H) gradient over the
batch explicitly."""

MODULE = "ex1_atomic"
WRONG = {}


def bnvar_backward(dbnvar, bndiff2):
    n, H = bndiff2.shape
    return (dbnvar / (n - 1)).expand(n, H)
