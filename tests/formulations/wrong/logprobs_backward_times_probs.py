"""logprobs_backward multiplies by probs instead of dividing (confusing d log(x)/dx = 1/x with
x)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.logprobs_backward": ("dprobs",),
}


def logprobs_backward(dlogprobs, probs):
    return probs * dlogprobs
