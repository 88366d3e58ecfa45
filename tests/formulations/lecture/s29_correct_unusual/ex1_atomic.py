"""Exercise 1, written as a small hand-made tape: one backward rule per forward line,
and manual_backward walks the forward lines in reverse, accumulating into a dict.
Matmuls as einsums so I can read off which index gets summed."""
import torch
import torch.nn.functional as F


def loss_backward(dloss, logprobs, Yb):
    picked = F.one_hot(Yb, logprobs.shape[1]).bool()
    return torch.where(picked, -dloss / len(Yb), 0.0).to(logprobs.dtype)


def logprobs_backward(dlogprobs, probs):
    return dlogprobs * probs.reciprocal()


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = dprobs * counts_sum_inv
    dcounts_sum_inv = torch.einsum("nv,nv->n", dprobs, counts).unsqueeze(1)
    return [dcounts, dcounts_sum_inv]


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -dcounts_sum_inv / counts_sum.square()


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum.repeat(1, counts.shape[1])


def counts_backward(dcounts, counts):
    return torch.mul(counts, dcounts)


def norm_logits_backward(dnorm_logits):
    return [dnorm_logits.clone(), dnorm_logits.sum(1, keepdim=True).neg()]


def logit_maxes_backward(dlogit_maxes, logits):
    where = logits.max(1, keepdim=True).indices
    return torch.zeros_like(logits).scatter_add_(1, where, dlogit_maxes)


def logits_backward(dlogits, h, W2):
    dh = torch.einsum("nv,hv->nh", dlogits, W2)
    dW2 = torch.einsum("nh,nv->hv", h, dlogits)
    db2 = torch.einsum("nv->v", dlogits)
    return [dh, dW2, db2]


def h_backward(dh, h):
    # 1 - tanh^2 = (1 - tanh)(1 + tanh)
    return dh * (1 - h) * (1 + h)


def hpreact_backward(dhpreact, bngain, bnraw):
    dbngain = torch.sum(bnraw * dhpreact, dim=0, keepdim=True)
    dbnraw = dhpreact * bngain
    dbnbias = torch.sum(dhpreact, dim=0, keepdim=True)
    return [dbngain, dbnraw, dbnbias]


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = dbnraw * bnvar_inv
    dbnvar_inv = torch.einsum("nh,nh->h", bndiff, dbnraw)[None, :]
    return [dbndiff, dbnvar_inv]


def bnvar_inv_backward(dbnvar_inv, bnvar):
    # d/dv (v + eps)^(-1/2) = -1/2 (v + eps)^(-3/2) = -1/2 rsqrt(v + eps)^3
    return -0.5 * torch.rsqrt(bnvar + 1e-5) ** 3 * dbnvar_inv


def bnvar_backward(dbnvar, bndiff2):
    return dbnvar.expand_as(bndiff2) / (bndiff2.shape[0] - 1)


def bndiff2_backward(dbndiff2, bndiff):
    return bndiff * dbndiff2 * 2


def bndiff_backward(dbndiff):
    return [dbndiff.clone(), -torch.sum(dbndiff, 0, keepdim=True)]


def bnmeani_backward(dbnmeani, hprebn):
    return dbnmeani.expand_as(hprebn) / hprebn.shape[0]


def hprebn_backward(dhprebn, embcat, W1):
    dembcat = dhprebn @ W1.mT
    dW1 = embcat.mT @ dhprebn
    db1 = dhprebn.sum(0)
    return [dembcat, dW1, db1]


def embcat_backward(dembcat, emb):
    return dembcat.unflatten(1, emb.shape[1:])


def emb_backward(demb, C, Xb):
    # (V, n*B) one-hot times (n*B, E): row v of dC sums the rows of demb where Xb == v
    onehot = F.one_hot(Xb.flatten(), C.shape[0]).to(demb.dtype)
    return onehot.T @ demb.flatten(0, 1)


# forward line -> (backward rule, output, forward values it needs, inputs it returns gradients for)
_TAPE = [
    (logprobs_backward, "logprobs", ("probs",), ("probs",)),
    (probs_backward, "probs", ("counts", "counts_sum_inv"), ("counts", "counts_sum_inv")),
    (counts_sum_inv_backward, "counts_sum_inv", ("counts_sum",), ("counts_sum",)),
    (counts_sum_backward, "counts_sum", ("counts",), ("counts",)),
    (counts_backward, "counts", ("counts",), ("norm_logits",)),
    (norm_logits_backward, "norm_logits", (), ("logits", "logit_maxes")),
    (logit_maxes_backward, "logit_maxes", ("logits",), ("logits",)),
    (logits_backward, "logits", ("h", "W2"), ("h", "W2", "b2")),
    (h_backward, "h", ("h",), ("hpreact",)),
    (hpreact_backward, "hpreact", ("bngain", "bnraw"), ("bngain", "bnraw", "bnbias")),
    (bnraw_backward, "bnraw", ("bndiff", "bnvar_inv"), ("bndiff", "bnvar_inv")),
    (bnvar_inv_backward, "bnvar_inv", ("bnvar",), ("bnvar",)),
    (bnvar_backward, "bnvar", ("bndiff2",), ("bndiff2",)),
    (bndiff2_backward, "bndiff2", ("bndiff",), ("bndiff",)),
    (bndiff_backward, "bndiff", (), ("hprebn", "bnmeani")),
    (bnmeani_backward, "bnmeani", ("hprebn",), ("hprebn",)),
    (hprebn_backward, "hprebn", ("embcat", "W1"), ("embcat", "W1", "b1")),
    (embcat_backward, "embcat", ("emb",), ("emb",)),
    (emb_backward, "emb", ("C", "Xb"), ("C",)),
]


def manual_backward(fwd):
    grads = {"logprobs": loss_backward(torch.ones_like(fwd.loss), fwd.logprobs, fwd.Yb)}
    for rule, out, needs, inputs in _TAPE:
        result = rule(grads[out], *(getattr(fwd, name) for name in needs))
        if isinstance(result, torch.Tensor):
            result = [result]
        for name, g in zip(inputs, result):
            # a variable used twice in the forward pass collects both gradients
            grads[name] = grads[name] + g if name in grads else g
    return grads
