"""h_backward as (1 - h*h) * dh: the tanh derivative written from the output h."""

MODULE = "ex1_atomic"
WRONG = {}


def h_backward(dh, h):
    return (1 - h * h) * dh
