import torch
import torch.nn.functional as F

# hyperparameters from the top of the notebook
vocab_size = 27  # number of characters
block_size = 3  # context length: how many characters do we take to predict the next one?
n_embd = 10  # the dimensionality of the character embedding vectors
n_hidden = 64  # the number of neurons in the hidden layer of the MLP
batch_size = 32
n = batch_size  # a shorter variable also, for convenience


# loss = -logprobs[range(n), Yb].mean()
def loss_backward(dloss, logprobs, Yb):
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -dloss / n
    return dlogprobs


# logprobs = probs.log()
def logprobs_backward(dlogprobs, probs):
    return (1.0 / probs) * dlogprobs


# probs = counts * counts_sum_inv
def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    return dcounts, dcounts_sum_inv


# counts_sum_inv = counts_sum**-1
def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -(counts_sum**-2) * dcounts_sum_inv


# counts_sum = counts.sum(1, keepdim=True)
def counts_sum_backward(dcounts_sum, counts):
    return torch.ones_like(counts) * dcounts_sum


# counts = norm_logits.exp()
def counts_backward(dcounts, counts):
    return counts * dcounts


# norm_logits = logits - logit_maxes
def norm_logits_backward(dnorm_logits):
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    return dlogits, dlogit_maxes


# logit_maxes = logits.max(1, keepdim=True).values
def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes


# logits = h @ W2 + b2
def logits_backward(dlogits, h, W2):
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    return dh, dW2, db2


# h = torch.tanh(hpreact)
def h_backward(dh, h):
    return (1.0 - h**2) * dh


# hpreact = bngain * bnraw + bnbias
def hpreact_backward(dhpreact, bngain, bnraw):
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dbngain, dbnraw, dbnbias


# bnraw = bndiff * bnvar_inv
def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    return dbndiff, dbnvar_inv


# bnvar_inv = (bnvar + 1e-5)**-0.5
def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv


# bnvar = 1/(n-1) * bndiff2.sum(0, keepdim=True)
def bnvar_backward(dbnvar, bndiff2):
    m = bndiff2.shape[0]  # batch dim
    return 1.0 / (m - 1) * torch.ones_like(bndiff2) * dbnvar


# bndiff2 = bndiff**2
def bndiff2_backward(dbndiff2, bndiff):
    return 2 * bndiff * dbndiff2


# bndiff = hprebn - bnmeani
def bndiff_backward(dbndiff):
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    return dhprebn, dbnmeani


# bnmeani = 1/n * hprebn.sum(0, keepdim=True)
def bnmeani_backward(dbnmeani, hprebn):
    return 1.0 / hprebn.shape[0] * torch.ones_like(hprebn) * dbnmeani


# hprebn = embcat @ W1 + b1
def hprebn_backward(dhprebn, embcat, W1):
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1


# embcat = emb.view(emb.shape[0], -1)
def embcat_backward(dembcat, emb):
    # undo the concatenation: (32, 30) -> (32, 3, 10)
    return dembcat.view(n, block_size, n_embd)


# emb = C[Xb]
def emb_backward(demb, C, Xb):
    dC = torch.zeros((vocab_size, n_embd))
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return dC


def manual_backward(fwd):
    n = fwd.n
    Xb, Yb = fwd.Xb, fwd.Yb
    C, W1, W2, bngain = fwd.C, fwd.W1, fwd.W2, fwd.bngain
    emb, embcat, hprebn, bndiff, bndiff2 = fwd.emb, fwd.embcat, fwd.hprebn, fwd.bndiff, fwd.bndiff2
    bnvar, bnvar_inv, bnraw, h, logits = fwd.bnvar, fwd.bnvar_inv, fwd.bnraw, fwd.h, fwd.logits
    counts, counts_sum, counts_sum_inv = fwd.counts, fwd.counts_sum, fwd.counts_sum_inv
    probs, logprobs = fwd.probs, fwd.logprobs

    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = -(counts_sum**-2) * dcounts_sum_inv
    dcounts += torch.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h**2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv
    dbndiff2 = 1.0 / (batch_size - 1) * torch.ones_like(bndiff2) * dbnvar  # bessel
    dbndiff += 2 * bndiff * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn += 1.0 / n * torch.ones_like(hprebn) * dbnmeani
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]

    grads = {}
    for name in [
        "logprobs",
        "probs",
        "counts_sum_inv",
        "counts_sum",
        "counts",
        "norm_logits",
        "logit_maxes",
        "logits",
        "h",
        "W2",
        "b2",
        "hpreact",
        "bngain",
        "bnbias",
        "bnraw",
        "bnvar_inv",
        "bnvar",
        "bndiff2",
        "bndiff",
        "bnmeani",
        "hprebn",
        "embcat",
        "W1",
        "b1",
        "emb",
        "C",
    ]:
        grads[name] = locals()["d" + name]
    return grads
