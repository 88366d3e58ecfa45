import torch
import torch.nn.functional as F

# shapes in the notebook: Xb (32, 3), C (27, 10), emb (32, 3, 10), W1 (30, 64), W2 (64, 27)


def loss_backward(dloss, logprobs, Yb):  # logprobs (32, 27)
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(logprobs.shape[0]), Yb] = -dloss / 32
    return dlogprobs


def logprobs_backward(dlogprobs, probs):  # (32, 27)
    return dlogprobs / probs


def probs_backward(dprobs, counts, counts_sum_inv):  # (32, 27), (32, 27), (32, 1)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)  # (32, 1)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):  # (32, 1)
    return -(counts_sum**-2) * dcounts_sum_inv


def counts_sum_backward(dcounts_sum, counts):  # (32, 1) -> (32, 27)
    return torch.ones_like(counts) * dcounts_sum


def counts_backward(dcounts, counts):
    return counts * dcounts


def norm_logits_backward(dnorm_logits):  # (32, 27) -> (32, 27), (32, 1)
    return dnorm_logits.clone(), -dnorm_logits.sum(1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes


def logits_backward(dlogits, h, W2):  # (32, 27), (32, 64), (64, 27)
    dh = dlogits @ W2.T  # (32, 27) @ (27, 64) -> (32, 64)
    dW2 = h.T @ dlogits  # (64, 32) @ (32, 27) -> (64, 27)
    db2 = dlogits.sum(0)  # (27,)
    return dh, dW2, db2


def h_backward(dh, h):
    return (1 - h**2) * dh


def hpreact_backward(dhpreact, bngain, bnraw):  # (32, 64), (1, 64), (32, 64)
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)  # (1, 64)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)  # (1, 64)
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    return dbndiff, dbnvar_inv


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return torch.ones_like(bndiff2) * dbnvar / (n - 1)


def bndiff2_backward(dbndiff2, bndiff):
    return 2 * bndiff * dbndiff2


def bndiff_backward(dbndiff):
    return dbndiff.clone(), -dbndiff.sum(0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):  # (1, 64) -> (32, 64)
    return torch.ones_like(hprebn) * dbnmeani / 32


def hprebn_backward(dhprebn, embcat, W1):  # (32, 64), (32, 30), (30, 64)
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1


def embcat_backward(dembcat, emb):  # (32, 30) -> (32, 3, 10)
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):  # (32, 3, 10) -> (27, 10)
    dC = torch.zeros(27, 10)
    dC.index_add_(0, Xb.view(-1), demb.view(-1, 10))
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
    dlogprobs[range(n), Yb] = -1 / 32  # mean over the 32 examples
    dprobs = dlogprobs / probs
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
    dhpreact = (1 - h**2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = -0.5 * (bnvar + 1e-5) ** -1.5 * dbnvar_inv
    dbndiff2 = torch.ones_like(bndiff2) * dbnvar / (n - 1)
    dbndiff += 2 * bndiff * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn += torch.ones_like(hprebn) * dbnmeani / n
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
    return {
        "logprobs": dlogprobs,
        "probs": dprobs,
        "counts_sum_inv": dcounts_sum_inv,
        "counts_sum": dcounts_sum,
        "counts": dcounts,
        "norm_logits": dnorm_logits,
        "logit_maxes": dlogit_maxes,
        "logits": dlogits,
        "h": dh,
        "W2": dW2,
        "b2": db2,
        "hpreact": dhpreact,
        "bngain": dbngain,
        "bnbias": dbnbias,
        "bnraw": dbnraw,
        "bnvar_inv": dbnvar_inv,
        "bnvar": dbnvar,
        "bndiff2": dbndiff2,
        "bndiff": dbndiff,
        "bnmeani": dbnmeani,
        "hprebn": dhprebn,
        "embcat": dembcat,
        "W1": dW1,
        "b1": db1,
        "emb": demb,
        "C": dC,
    }
