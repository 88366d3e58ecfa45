"""logprobs_backward computed as probs**-1 * dlogprobs in float64 and returned as float64."""

MODULE = "ex1_atomic"
WRONG = {}


def logprobs_backward(dlogprobs, probs):
    return probs.double() ** -1 * dlogprobs.double()
