"""Exercise 1: backpropagate through the network one atomic operation at a time.

Each function reverses one line of the lecture's forward pass. It receives the
gradient of the loss with respect to that line's output first, then the forward
values it needs, and returns the gradient(s) of the line's inputs, each with exactly
the shape of that input. Do not modify the arguments and do not use autograd.

Shapes: n batch size, V vocabulary size, E embedding size, B block size
(context length), H hidden size.
"""

import torch


def loss_backward(dloss, logprobs, Yb):
    """loss = -logprobs[range(n), Yb].mean()

    dloss: ()  logprobs: (n, V)  Yb: (n,) int64
    Returns dlogprobs: (n, V).
    """
    # BEGIN SOLUTION
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[torch.arange(n), Yb] = -dloss / n
    return dlogprobs
    # END SOLUTION


def logprobs_backward(dlogprobs, probs):
    """logprobs = probs.log()

    dlogprobs: (n, V)  probs: (n, V)
    Returns dprobs: (n, V).
    """
    # BEGIN SOLUTION
    return dlogprobs / probs
    # END SOLUTION


def probs_backward(dprobs, counts, counts_sum_inv):
    """probs = counts * counts_sum_inv

    dprobs: (n, V)  counts: (n, V)  counts_sum_inv: (n, 1)
    Returns (dcounts, dcounts_sum_inv): (n, V), (n, 1).
    """
    # BEGIN SOLUTION
    dcounts = dprobs * counts_sum_inv
    dcounts_sum_inv = (dprobs * counts).sum(1, keepdim=True)  # broadcast over V, so sum
    return dcounts, dcounts_sum_inv
    # END SOLUTION


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    """counts_sum_inv = counts_sum**-1

    dcounts_sum_inv: (n, 1)  counts_sum: (n, 1)
    Returns dcounts_sum: (n, 1).
    """
    # BEGIN SOLUTION
    return -(counts_sum**-2) * dcounts_sum_inv
    # END SOLUTION


def counts_sum_backward(dcounts_sum, counts):
    """counts_sum = counts.sum(1, keepdim=True)

    dcounts_sum: (n, 1)  counts: (n, V)
    Returns dcounts: (n, V).
    """
    # BEGIN SOLUTION
    return dcounts_sum.expand_as(counts).clone()  # a sum copies its gradient to every term
    # END SOLUTION


def counts_backward(dcounts, counts):
    """counts = norm_logits.exp()

    dcounts: (n, V)  counts: (n, V)
    Returns dnorm_logits: (n, V).
    """
    # BEGIN SOLUTION
    return counts * dcounts  # exp is its own derivative, and counts already holds it
    # END SOLUTION


def norm_logits_backward(dnorm_logits):
    """norm_logits = logits - logit_maxes

    dnorm_logits: (n, V)
    Returns (dlogits, dlogit_maxes): (n, V), (n, 1).
    """
    # BEGIN SOLUTION
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    return dlogits, dlogit_maxes
    # END SOLUTION


def logit_maxes_backward(dlogit_maxes, logits):
    """logit_maxes = logits.max(1, keepdim=True).values

    dlogit_maxes: (n, 1)  logits: (n, V)
    Returns dlogits: (n, V). The gradient goes to the one index that max returns,
    even when a row holds the maximum several times.
    """
    # BEGIN SOLUTION
    dlogits = torch.zeros_like(logits)
    dlogits.scatter_(1, logits.max(1, keepdim=True).indices, dlogit_maxes)
    return dlogits
    # END SOLUTION


def logits_backward(dlogits, h, W2):
    """logits = h @ W2 + b2

    dlogits: (n, V)  h: (n, H)  W2: (H, V)
    Returns (dh, dW2, db2): (n, H), (H, V), (V,).
    """
    # BEGIN SOLUTION
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2
    # END SOLUTION


def h_backward(dh, h):
    """h = torch.tanh(hpreact)

    dh: (n, H)  h: (n, H)
    Returns dhpreact: (n, H).
    """
    # BEGIN SOLUTION
    return (1.0 - h**2) * dh
    # END SOLUTION


def hpreact_backward(dhpreact, bngain, bnraw):
    """hpreact = bngain * bnraw + bnbias

    dhpreact: (n, H)  bngain: (1, H)  bnraw: (n, H)
    Returns (dbngain, dbnraw, dbnbias): (1, H), (n, H), (1, H).
    """
    # BEGIN SOLUTION
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dbngain, dbnraw, dbnbias
    # END SOLUTION


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    """bnraw = bndiff * bnvar_inv

    dbnraw: (n, H)  bndiff: (n, H)  bnvar_inv: (1, H)
    Returns (dbndiff, dbnvar_inv): (n, H), (1, H).
    """
    # BEGIN SOLUTION
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    return dbndiff, dbnvar_inv
    # END SOLUTION


def bnvar_inv_backward(dbnvar_inv, bnvar):
    """bnvar_inv = (bnvar + 1e-5)**-0.5

    dbnvar_inv: (1, H)  bnvar: (1, H)
    Returns dbnvar: (1, H).
    """
    # BEGIN SOLUTION
    return -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv
    # END SOLUTION


def bnvar_backward(dbnvar, bndiff2):
    """bnvar = 1/(n-1) * bndiff2.sum(0, keepdim=True)

    dbnvar: (1, H)  bndiff2: (n, H)
    Returns dbndiff2: (n, H).
    """
    # BEGIN SOLUTION
    n = bndiff2.shape[0]
    return torch.ones_like(bndiff2) * dbnvar / (n - 1)  # Bessel's correction: n - 1
    # END SOLUTION


def bndiff2_backward(dbndiff2, bndiff):
    """bndiff2 = bndiff**2

    dbndiff2: (n, H)  bndiff: (n, H)
    Returns dbndiff: (n, H).
    """
    # BEGIN SOLUTION
    return 2 * bndiff * dbndiff2
    # END SOLUTION


def bndiff_backward(dbndiff):
    """bndiff = hprebn - bnmeani

    dbndiff: (n, H)
    Returns (dhprebn, dbnmeani): (n, H), (1, H).
    """
    # BEGIN SOLUTION
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(0, keepdim=True)  # keep the dimension: bnmeani is (1, H)
    return dhprebn, dbnmeani
    # END SOLUTION


def bnmeani_backward(dbnmeani, hprebn):
    """bnmeani = 1/n * hprebn.sum(0, keepdim=True)

    dbnmeani: (1, H)  hprebn: (n, H)
    Returns dhprebn: (n, H).
    """
    # BEGIN SOLUTION
    n = hprebn.shape[0]
    return torch.ones_like(hprebn) * dbnmeani / n
    # END SOLUTION


def hprebn_backward(dhprebn, embcat, W1):
    """hprebn = embcat @ W1 + b1

    dhprebn: (n, H)  embcat: (n, B*E)  W1: (B*E, H)
    Returns (dembcat, dW1, db1): (n, B*E), (B*E, H), (H,).
    """
    # BEGIN SOLUTION
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1
    # END SOLUTION


def embcat_backward(dembcat, emb):
    """embcat = emb.view(emb.shape[0], -1)

    dembcat: (n, B*E)  emb: (n, B, E)
    Returns demb: (n, B, E).
    """
    # BEGIN SOLUTION
    return dembcat.view(emb.shape)
    # END SOLUTION


def emb_backward(demb, C, Xb):
    """emb = C[Xb]

    demb: (n, B, E)  C: (V, E)  Xb: (n, B) int64
    Returns dC: (V, E). A token that occurs several times in Xb collects the
    gradient of every occurrence.
    """
    # BEGIN SOLUTION
    # The lecture's slow way, one Python step per token:
    #   dC = torch.zeros_like(C)
    #   for k in range(Xb.shape[0]):
    #       for j in range(Xb.shape[1]):
    #           dC[Xb[k, j]] += demb[k, j]
    dC = torch.zeros_like(C)
    dC.index_add_(0, Xb.view(-1), demb.view(-1, C.shape[1]))
    return dC
    # END SOLUTION


def manual_backward(fwd):
    """Backpropagate through the whole forward pass by hand.

    fwd has one read-only attribute for every tensor of the forward pass
    (parameters, Xb, Yb, every intermediate, loss) and n.
    Returns a dict from each of the 26 variable names (logprobs, probs, ...,
    emb, C) to the gradient of loss with respect to it.
    """
    # BEGIN SOLUTION
    f = fwd
    g = {}
    g["logprobs"] = loss_backward(torch.ones_like(f.loss), f.logprobs, f.Yb)
    g["probs"] = logprobs_backward(g["logprobs"], f.probs)
    dcounts, g["counts_sum_inv"] = probs_backward(g["probs"], f.counts, f.counts_sum_inv)
    g["counts_sum"] = counts_sum_inv_backward(g["counts_sum_inv"], f.counts_sum)
    g["counts"] = dcounts + counts_sum_backward(g["counts_sum"], f.counts)
    g["norm_logits"] = counts_backward(g["counts"], f.counts)
    dlogits, g["logit_maxes"] = norm_logits_backward(g["norm_logits"])
    g["logits"] = dlogits + logit_maxes_backward(g["logit_maxes"], f.logits)
    g["h"], g["W2"], g["b2"] = logits_backward(g["logits"], f.h, f.W2)
    g["hpreact"] = h_backward(g["h"], f.h)
    g["bngain"], g["bnraw"], g["bnbias"] = hpreact_backward(g["hpreact"], f.bngain, f.bnraw)
    dbndiff, g["bnvar_inv"] = bnraw_backward(g["bnraw"], f.bndiff, f.bnvar_inv)
    g["bnvar"] = bnvar_inv_backward(g["bnvar_inv"], f.bnvar)
    g["bndiff2"] = bnvar_backward(g["bnvar"], f.bndiff2)
    g["bndiff"] = dbndiff + bndiff2_backward(g["bndiff2"], f.bndiff)
    dhprebn, g["bnmeani"] = bndiff_backward(g["bndiff"])
    g["hprebn"] = dhprebn + bnmeani_backward(g["bnmeani"], f.hprebn)
    g["embcat"], g["W1"], g["b1"] = hprebn_backward(g["hprebn"], f.embcat, f.W1)
    g["emb"] = embcat_backward(g["embcat"], f.emb)
    g["C"] = emb_backward(g["emb"], f.C, f.Xb)
    return g
    # END SOLUTION
