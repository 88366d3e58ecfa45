"""h_backward as (1 - h) * (1 + h) * dh, the tanh derivative 1 - h^2 factored."""

MODULE = "ex1_atomic"
WRONG = {}


def h_backward(dh, h):
    return (1 - h) * (1 + h) * dh
