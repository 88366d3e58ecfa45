import torch
import torch.nn.functional as F


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    out = torch.zeros_like(logprobs)
    out[range(n), Yb] = -1.0
    return out * dloss / n


def logprobs_backward(dlogprobs, probs):
    return dlogprobs / probs


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = torch.sum(counts * dprobs, 1, keepdim=True)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    # x**-1  ->  -x**-2
    return -counts_sum**-2 * dcount_sum_inv


def counts_sum_backward(dcounts_sum, counts):
    return torch.ones_like(counts) * dcounts_sum


def counts_backward(dcounts, counts):
    return counts * dcounts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), -torch.sum(dnorm_logits, 1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    idx = logits.max(1).indices
    out = torch.zeros_like(logits)
    out[range(logits.shape[0]), idx] = dlogit_maxes[:, 0]
    return out


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)


def h_backward(dh, h):
    return (1.0 - h**2) * dh


def hpreact_backward(dhpreact, bngain, bnraw):
    # hpreact = bngain * bnraw + bnbias
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain + dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    return bnvar_inv * dbnraw, (bndiff * dbnraw).sum(0, keepdim=True)


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv


def bnvar_backward(dbnvar, bndiff2):
    return torch.ones_like(bndiff2) * dbnvar / (bndiff2.shape[0] - 1)


def bndiff2_backward(dbndiff2, bndiff):
    return 2 * bndiff * dbndiff2


def bndiff_backward(dbndiff):
    return dbndiff.clone(), -dbndiff.sum(0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):
    return torch.ones_like(hprebn) * dbnmeani / hprebn.shape[0]


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1.T, embcat.T @ dhprebn, dhprebn.sum(0)


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    V, E = C.shape
    onehot = F.one_hot(Xb.view(-1), V).float()  # (n*B, V)
    return onehot.T @ demb.view(-1, E)


def manual_backward(fwd):
    f = fwd
    n = f.n
    # softmax part
    dlogprobs = torch.zeros_like(f.logprobs)
    dlogprobs[range(n), f.Yb] = -1.0 / n
    dprobs = dlogprobs / f.probs
    dcounts_sum_inv = torch.sum(f.counts * dprobs, 1, keepdim=True)
    dcounts_sum = -f.counts_sum**-2 * dcounts_sum_inv
    dcounts = f.counts_sum_inv * dprobs + torch.ones_like(f.counts) * dcounts_sum
    dnorm_logits = f.counts * dcounts
    dlogit_maxes = -torch.sum(dnorm_logits, 1, keepdim=True)
    dlogits = dnorm_logits.clone()
    dlogits[range(n), f.logits.max(1).indices] += dlogit_maxes[:, 0]
    # layer 2 + tanh
    dh = dlogits @ f.W2.T
    dW2 = f.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - f.h**2) * dh
    # batchnorm
    dbngain = (f.bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbnraw = f.bngain + dhpreact
    dbnvar_inv = (f.bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = -0.5 * (f.bnvar + 1e-5) ** -1.5 * dbnvar_inv
    dbndiff2 = torch.ones_like(f.bndiff2) * dbnvar / (n - 1)
    dbndiff = f.bnvar_inv * dbnraw + 2 * f.bndiff * dbndiff2
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn = dbndiff + torch.ones_like(f.hprebn) * dbnmeani / n
    # layer 1 + embedding
    dembcat = dhprebn @ f.W1.T
    dW1 = f.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(f.emb.shape)
    V, E = f.C.shape
    dC = F.one_hot(f.Xb.view(-1), V).float().T @ demb.view(-1, E)
    names = ("logprobs probs counts_sum_inv counts_sum counts norm_logits logit_maxes logits h W2 b2 "
             "hpreact bngain bnbias bnraw bnvar_inv bnvar bndiff2 bndiff bnmeani hprebn embcat W1 b1 emb C").split()
    values = (dlogprobs, dprobs, dcounts_sum_inv, dcounts_sum, dcounts, dnorm_logits, dlogit_maxes, dlogits,
              dh, dW2, db2, dhpreact, dbngain, dbnbias, dbnraw, dbnvar_inv, dbnvar, dbndiff2, dbndiff,
              dbnmeani, dhprebn, dembcat, dW1, db1, demb, dC)
    return dict(zip(names, values))
