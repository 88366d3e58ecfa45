"""h_backward uses (1 - h) instead of (1 - h**2) for the tanh derivative."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.h_backward": ("dhpreact",),
}
DIAGNOSIS = {
    "ex1.h_backward": {"dhpreact": "unknown"},
}


def h_backward(dh, h):
    return (1 - h) * dh
