"""h_backward multiplies the upstream dh in place and returns it: the values are right, but an
argument is modified, which the spec forbids."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.h_backward": ("dhpreact",),
}
DIAGNOSIS = {
    "ex1.h_backward": {"dhpreact": "mutated_input"},
}


def h_backward(dh, h):
    dh *= 1 - h**2
    return dh
