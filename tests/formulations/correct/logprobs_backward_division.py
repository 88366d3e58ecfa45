"""logprobs_backward as dlogprobs / probs, the derivative of log written as a division."""

MODULE = "ex1_atomic"
WRONG = {}


def logprobs_backward(dlogprobs, probs):
    return dlogprobs / probs
