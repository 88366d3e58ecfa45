import torch
import torch.nn.functional as F


def unbroadcast(grad, shape):
    """sum grad down to `shape`, undoing whatever broadcasting happened in the forward pass"""
    while grad.dim() > len(shape):
        grad = grad.sum(0)
    for i, s in enumerate(shape):
        if s == 1 and grad.shape[i] != 1:
            grad = grad.sum(i, keepdim=True)
    return grad


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    picked = torch.zeros_like(logprobs)
    picked[torch.arange(n), Yb] = 1.0
    return -picked * dloss / n


def logprobs_backward(dlogprobs, probs):
    return dlogprobs / probs


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = unbroadcast(dprobs * counts_sum_inv, counts.shape)
    dcounts_sum_inv = unbroadcast(dprobs * counts, counts_sum_inv.shape)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return dcounts_sum_inv * -(counts_sum**-2)


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum + torch.zeros_like(counts)  # broadcast back over the row


def counts_backward(dcounts, counts):
    return dcounts * counts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits, unbroadcast(-dnorm_logits, (dnorm_logits.shape[0], 1))


def logit_maxes_backward(dlogit_maxes, logits):
    ix = logits.max(1, keepdim=True).indices
    return torch.zeros_like(logits).scatter(1, ix, dlogit_maxes)


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, unbroadcast(dlogits, (W2.shape[1],))


def h_backward(dh, h):
    return dh * (1 - h) * (1 + h)


def hpreact_backward(dhpreact, bngain, bnraw):
    dbngain = unbroadcast(dhpreact * bnraw, bngain.shape)
    dbnraw = dhpreact * bngain
    dbnbias = unbroadcast(dhpreact, bngain.shape)  # bnbias has bngain's shape
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    return dbnraw * bnvar_inv, unbroadcast(dbnraw * bndiff, bnvar_inv.shape)


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return dbnvar_inv * -0.5 * (bnvar + 1e-5) ** -1.5


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return (dbnvar / (n - 1)) + torch.zeros_like(bndiff2)


def bndiff2_backward(dbndiff2, bndiff):
    return dbndiff2 * 2 * bndiff


def bndiff_backward(dbndiff):
    return dbndiff, unbroadcast(-dbndiff, (1, dbndiff.shape[1]))


def bnmeani_backward(dbnmeani, hprebn):
    return dbnmeani / hprebn.shape[0] + torch.zeros_like(hprebn)


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1.T, embcat.T @ dhprebn, unbroadcast(dhprebn, (W1.shape[1],))


def embcat_backward(dembcat, emb):
    return dembcat.view_as(emb)


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for pos in range(Xb.shape[1]):  # one vectorized add per context position
        dC.index_add_(0, Xb[:, pos], demb[:, pos])
    return dC


def manual_backward(fwd):
    f = fwd
    n = f.n
    g = {}
    g["logprobs"] = loss_backward(torch.tensor(1.0), f.logprobs, f.Yb)
    g["probs"] = logprobs_backward(g["logprobs"], f.probs)
    dc1, g["counts_sum_inv"] = probs_backward(g["probs"], f.counts, f.counts_sum_inv)
    g["counts_sum"] = counts_sum_inv_backward(g["counts_sum_inv"], f.counts_sum)
    g["counts"] = dc1 + counts_sum_backward(g["counts_sum"], f.counts)
    g["norm_logits"] = counts_backward(g["counts"], f.counts)
    _, g["logit_maxes"] = norm_logits_backward(g["norm_logits"])
    # the logit_maxes branch only carries ~0 (softmax doesn't care about the offset), skip it
    g["logits"] = g["norm_logits"].clone()
    g["h"], g["W2"], g["b2"] = logits_backward(g["logits"], f.h, f.W2)
    g["hpreact"] = h_backward(g["h"], f.h)
    g["bngain"], g["bnraw"], g["bnbias"] = hpreact_backward(g["hpreact"], f.bngain, f.bnraw)
    dbndiff_a, g["bnvar_inv"] = bnraw_backward(g["bnraw"], f.bndiff, f.bnvar_inv)
    g["bnvar"] = bnvar_inv_backward(g["bnvar_inv"], f.bnvar)
    g["bndiff2"] = bnvar_backward(g["bnvar"], f.bndiff2)
    g["bndiff"] = dbndiff_a + bndiff2_backward(g["bndiff2"], f.bndiff)
    dh1, g["bnmeani"] = bndiff_backward(g["bndiff"])
    g["hprebn"] = dh1 + bnmeani_backward(g["bnmeani"], f.hprebn)
    g["embcat"], g["W1"], g["b1"] = hprebn_backward(g["hprebn"], f.embcat, f.W1)
    g["emb"] = embcat_backward(g["embcat"], f.emb)
    g["C"] = emb_backward(g["emb"], f.C, f.Xb)
    # extras I look at in the notebook
    g["dlogits_from_max_branch"] = logit_maxes_backward(g["logit_maxes"], f.logits)
    g["n"] = n
    return g
