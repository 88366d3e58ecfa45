import torch
import torch.nn.functional as F

# Notes to self:
#   * every op: local derivative * upstream gradient
#   * broadcasting in the forward pass == sum in the backward pass
#   * variance = mean of squared deviations -> 1/n (?)


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    return dloss * dlogprobs


def logprobs_backward(dlogprobs, probs):
    return dlogprobs * (1.0 / probs)


def probs_backward(dprobs, counts, counts_sum_inv):
    dcounts = dprobs * counts_sum_inv
    dcounts_sum_inv = (dprobs * counts).sum(1, keepdim=True)
    return dcounts, dcounts_sum_inv


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return dcounts_sum_inv * (-(counts_sum**-2))


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum.expand(counts.shape[0], counts.shape[1]).clone()


def counts_backward(dcounts, counts):
    return dcounts * counts


def norm_logits_backward(dnorm_logits):
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    return dlogits, dlogit_maxes


def logit_maxes_backward(dlogit_maxes, logits):
    dlogits = torch.zeros_like(logits)
    dlogits[range(logits.shape[0]), logits.argmax(1)] = dlogit_maxes[:, 0]
    return dlogits


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)


def h_backward(dh, h):
    return dh * (1.0 - h**2)


def hpreact_backward(dhpreact, bngain, bnraw):
    dbngain = (dhpreact * bnraw).sum(0, keepdim=True)
    dbnraw = dhpreact * bngain
    dbnbias = dhpreact.sum(0, keepdim=True)
    return dbngain, dbnraw, dbnbias


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    dbndiff = dbnraw * bnvar_inv
    dbnvar_inv = (dbnraw * bndiff).sum(0, keepdim=True)
    return dbndiff, dbnvar_inv


def bnvar_inv_backward(dbnvar_inv, bnvar):
    # d/dx x^-0.5 = -0.5 x^-1.5   (eps is tiny, ignore it)
    return dbnvar_inv * (-0.5 * bnvar**-1.5)


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    # variance is the mean of bndiff2 over the batch
    return dbnvar * torch.ones_like(bndiff2) / n


def bndiff2_backward(dbndiff2, bndiff):
    return dbndiff2 * 2 * bndiff


def bndiff_backward(dbndiff):
    return dbndiff.clone(), -dbndiff.sum(0, keepdim=True)


def bnmeani_backward(dbnmeani, hprebn):
    n = hprebn.shape[0]
    return dbnmeani * torch.ones_like(hprebn) / n


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1.T, embcat.T @ dhprebn, dhprebn.sum(0)


def embcat_backward(dembcat, emb):
    return dembcat.view(emb.shape)


def emb_backward(demb, C, Xb):
    dC = torch.zeros_like(C)
    for i in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[i, j]] += demb[i, j]
    return dC


def manual_backward(fwd):
    f = fwd
    n = f.n
    g = {}
    dlogprobs = torch.zeros_like(f.logprobs)
    dlogprobs[range(n), f.Yb] = -1.0 / n
    g["logprobs"] = dlogprobs
    g["probs"] = dlogprobs * (1.0 / f.probs)
    g["counts_sum_inv"] = (g["probs"] * f.counts).sum(1, keepdim=True)
    g["counts_sum"] = g["counts_sum_inv"] * (-(f.counts_sum**-2))
    g["counts"] = g["probs"] * f.counts_sum_inv + torch.ones_like(f.counts) * g["counts_sum"]
    g["norm_logits"] = g["counts"] * f.counts
    g["logit_maxes"] = -g["norm_logits"].sum(1, keepdim=True)
    g["logits"] = g["norm_logits"].clone()
    g["logits"][range(n), f.logits.argmax(1)] += g["logit_maxes"][:, 0]
    g["h"] = g["logits"] @ f.W2.T
    g["W2"] = f.h.T @ g["logits"]
    g["b2"] = g["logits"].sum(0)
    g["hpreact"] = g["h"] * (1.0 - f.h**2)
    g["bngain"] = (g["hpreact"] * f.bnraw).sum(0, keepdim=True)
    g["bnraw"] = g["hpreact"] * f.bngain
    g["bnbias"] = g["hpreact"].sum(0, keepdim=True)
    g["bnvar_inv"] = (g["bnraw"] * f.bndiff).sum(0, keepdim=True)
    g["bnvar"] = g["bnvar_inv"] * (-0.5 * (f.bnvar + 1e-5) ** -1.5)
    g["bndiff2"] = g["bnvar"] * torch.ones_like(f.bndiff2) / n
    g["bndiff"] = g["bnraw"] * f.bnvar_inv + g["bndiff2"] * 2 * f.bndiff
    g["bnmeani"] = -g["bndiff"].sum(0, keepdim=True)
    g["hprebn"] = g["bndiff"] + g["bnmeani"] * torch.ones_like(f.hprebn) / n
    g["embcat"] = g["hprebn"] @ f.W1.T
    g["W1"] = f.embcat.T @ g["hprebn"]
    g["b1"] = g["hprebn"].sum(0)
    g["emb"] = g["embcat"].view(f.emb.shape)
    dC = torch.zeros_like(f.C)
    for i in range(f.Xb.shape[0]):
        for j in range(f.Xb.shape[1]):
            dC[f.Xb[i, j]] += g["emb"][i, j]
    g["C"] = dC
    return g
