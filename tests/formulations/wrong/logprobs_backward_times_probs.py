"""logprobs_backward multiplies by probs instead of dividing (confusing d log(x)/dx = 1/x with
x)."""

MODULE = "ex1_atomic"
WRONG = {
    "ex1.logprobs_backward": ("dprobs",),
}
DIAGNOSIS = {
    "ex1.logprobs_backward": {"dprobs": "unknown"},
}


def logprobs_backward(dlogprobs, probs):
    return probs * dlogprobs
