"""h_backward as (1 - h**2) * dh, the lecture's form of the tanh derivative."""

MODULE = "ex1_atomic"
WRONG = {}


def h_backward(dh, h):
    return (1 - h**2) * dh
