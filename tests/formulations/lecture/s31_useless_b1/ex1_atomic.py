# makemore part 4 -- exercise 1
import torch
import torch.nn.functional as F


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    for i in range(n):
        dlogprobs[i, Yb[i]] = -1.0 / n
    return dlogprobs * dloss


def logprobs_backward(dlogprobs, probs):
    return (1.0 / probs) * dlogprobs


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return (-(counts_sum**-2)) * dcounts_sum_inv


def counts_sum_backward(dcounts_sum, counts):
    return torch.ones_like(counts) * dcounts_sum


def counts_backward(dcounts, counts):
    return counts * dcounts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), (-dnorm_logits).sum(1, keepdim=True)


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
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    return dbndiff, dbnvar_inv


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar


def bndiff2_backward(dbndiff2, bndiff):
    return (2 * bndiff) * dbndiff2


def bndiff_backward(dbndiff):
    return dbndiff.clone(), (-dbndiff).sum(0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    return 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)


def hprebn_backward(dhprebn, embcat, W1):
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    return dembcat, dW1, db1


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    return dC


def manual_backward(fwd):
    f = fwd
    g = {}
    g["logprobs"] = loss_backward(torch.tensor(1.0), f.logprobs, f.Yb)
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
