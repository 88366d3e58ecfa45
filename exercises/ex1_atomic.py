# Generated from solutions/ by `backprop-ninja stubs`: fill in the functions.
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
    raise NotImplementedError("write this function: see its docstring")


def logprobs_backward(dlogprobs, probs):
    """logprobs = probs.log()

    dlogprobs: (n, V)  probs: (n, V)
    Returns dprobs: (n, V).
    """
    raise NotImplementedError("write this function: see its docstring")


def probs_backward(dprobs, counts, counts_sum_inv):
    """probs = counts * counts_sum_inv

    dprobs: (n, V)  counts: (n, V)  counts_sum_inv: (n, 1)
    Returns (dcounts, dcounts_sum_inv): (n, V), (n, 1).
    """
    raise NotImplementedError("write this function: see its docstring")


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    """counts_sum_inv = counts_sum**-1

    dcounts_sum_inv: (n, 1)  counts_sum: (n, 1)
    Returns dcounts_sum: (n, 1).
    """
    raise NotImplementedError("write this function: see its docstring")


def counts_sum_backward(dcounts_sum, counts):
    """counts_sum = counts.sum(1, keepdim=True)

    dcounts_sum: (n, 1)  counts: (n, V)
    Returns dcounts: (n, V).
    """
    raise NotImplementedError("write this function: see its docstring")


def counts_backward(dcounts, counts):
    """counts = norm_logits.exp()

    dcounts: (n, V)  counts: (n, V)
    Returns dnorm_logits: (n, V).
    """
    raise NotImplementedError("write this function: see its docstring")


def norm_logits_backward(dnorm_logits):
    """norm_logits = logits - logit_maxes

    dnorm_logits: (n, V)
    Returns (dlogits, dlogit_maxes): (n, V), (n, 1).
    """
    raise NotImplementedError("write this function: see its docstring")


def logit_maxes_backward(dlogit_maxes, logits):
    """logit_maxes = logits.max(1, keepdim=True).values

    dlogit_maxes: (n, 1)  logits: (n, V)
    Returns dlogits: (n, V). The gradient goes to the one index that max returns,
    even when a row holds the maximum several times.
    """
    raise NotImplementedError("write this function: see its docstring")


def logits_backward(dlogits, h, W2):
    """logits = h @ W2 + b2

    dlogits: (n, V)  h: (n, H)  W2: (H, V)
    Returns (dh, dW2, db2): (n, H), (H, V), (V,).
    """
    raise NotImplementedError("write this function: see its docstring")


def h_backward(dh, h):
    """h = torch.tanh(hpreact)

    dh: (n, H)  h: (n, H)
    Returns dhpreact: (n, H).
    """
    raise NotImplementedError("write this function: see its docstring")


def hpreact_backward(dhpreact, bngain, bnraw):
    """hpreact = bngain * bnraw + bnbias

    dhpreact: (n, H)  bngain: (1, H)  bnraw: (n, H)
    Returns (dbngain, dbnraw, dbnbias): (1, H), (n, H), (1, H).
    """
    raise NotImplementedError("write this function: see its docstring")


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    """bnraw = bndiff * bnvar_inv

    dbnraw: (n, H)  bndiff: (n, H)  bnvar_inv: (1, H)
    Returns (dbndiff, dbnvar_inv): (n, H), (1, H).
    """
    raise NotImplementedError("write this function: see its docstring")


def bnvar_inv_backward(dbnvar_inv, bnvar):
    """bnvar_inv = (bnvar + 1e-5)**-0.5

    dbnvar_inv: (1, H)  bnvar: (1, H)
    Returns dbnvar: (1, H).
    """
    raise NotImplementedError("write this function: see its docstring")


def bnvar_backward(dbnvar, bndiff2):
    """bnvar = 1/(n-1) * bndiff2.sum(0, keepdim=True)

    dbnvar: (1, H)  bndiff2: (n, H)
    Returns dbndiff2: (n, H).
    """
    raise NotImplementedError("write this function: see its docstring")


def bndiff2_backward(dbndiff2, bndiff):
    """bndiff2 = bndiff**2

    dbndiff2: (n, H)  bndiff: (n, H)
    Returns dbndiff: (n, H).
    """
    raise NotImplementedError("write this function: see its docstring")


def bndiff_backward(dbndiff):
    """bndiff = hprebn - bnmeani

    dbndiff: (n, H)
    Returns (dhprebn, dbnmeani): (n, H), (1, H).
    """
    raise NotImplementedError("write this function: see its docstring")


def bnmeani_backward(dbnmeani, hprebn):
    """bnmeani = 1/n * hprebn.sum(0, keepdim=True)

    dbnmeani: (1, H)  hprebn: (n, H)
    Returns dhprebn: (n, H).
    """
    raise NotImplementedError("write this function: see its docstring")


def hprebn_backward(dhprebn, embcat, W1):
    """hprebn = embcat @ W1 + b1

    dhprebn: (n, H)  embcat: (n, B*E)  W1: (B*E, H)
    Returns (dembcat, dW1, db1): (n, B*E), (B*E, H), (H,).
    """
    raise NotImplementedError("write this function: see its docstring")


def embcat_backward(dembcat, emb):
    """embcat = emb.view(emb.shape[0], -1)

    dembcat: (n, B*E)  emb: (n, B, E)
    Returns demb: (n, B, E).
    """
    raise NotImplementedError("write this function: see its docstring")


def emb_backward(demb, C, Xb):
    """emb = C[Xb]

    demb: (n, B, E)  C: (V, E)  Xb: (n, B) int64
    Returns dC: (V, E). A token that occurs several times in Xb collects the
    gradient of every occurrence.
    """
    raise NotImplementedError("write this function: see its docstring")


def manual_backward(fwd):
    """Backpropagate through the whole forward pass by hand.

    fwd has one read-only attribute for every tensor of the forward pass
    (parameters, Xb, Yb, every intermediate, loss) and n.
    Returns a dict from each of the 26 variable names (logprobs, probs, ...,
    emb, C) to the gradient of loss with respect to it.
    """
    raise NotImplementedError("write this function: see its docstring")
