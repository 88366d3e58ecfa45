"""logprobs_backward computed as probs**-1 * dlogprobs in float64 and returned as float64."""
import torch
import torch.nn.functional as F

MODULE = "ex1_atomic"
WRONG = {}


def logprobs_backward(dlogprobs, probs):
    return probs.double() ** -1 * dlogprobs.double()
