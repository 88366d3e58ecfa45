import torch
import torch.nn.functional as F

# got through the cross entropy part and the second layer, batchnorm is next week


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -dloss / n
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    return 1.0 / probs * dlogprobs


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = (counts * dprobs).sum(1)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -(counts_sum**-2) * dcounts_sum_inv


def counts_sum_backward(dcounts_sum, counts):
    return torch.ones_like(counts) * dcounts_sum


def counts_backward(dcounts, counts):
    return counts * dcounts


def norm_logits_backward(dnorm_logits):
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    return dlogits, dlogit_maxes


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes


def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2


def h_backward(dh, h):
    return (1.0 - h**2) * dh


def hpreact_backward(dhpreact, bngain, bnraw):
    # TODO
    raise NotImplementedError


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    # TODO
    raise NotImplementedError


def bnvar_inv_backward(dbnvar_inv, bnvar):
    # TODO
    raise NotImplementedError


def bnvar_backward(dbnvar, bndiff2):
    # TODO
    raise NotImplementedError


def bndiff2_backward(dbndiff2, bndiff):
    # TODO
    raise NotImplementedError


def bndiff_backward(dbndiff):
    # TODO
    raise NotImplementedError


def bnmeani_backward(dbnmeani, hprebn):
    # TODO
    raise NotImplementedError


def hprebn_backward(dhprebn, embcat, W1):
    # TODO
    raise NotImplementedError


def embcat_backward(dembcat, emb):
    # TODO
    raise NotImplementedError


def emb_backward(demb, C, Xb):
    # TODO
    raise NotImplementedError


def manual_backward(fwd):
    # TODO once all the pieces above work
    raise NotImplementedError
