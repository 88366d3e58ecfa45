import torch
import torch.nn.functional as F

# precision notes: the cmp() checks in the notebook were done in float64 for the chain,
# embedding grads kept in half like I do on the GPU


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -dloss / n
    return dlogprobs


def logprobs_backward(dlogprobs, probs):
    return dlogprobs / probs


def probs_backward(dprobs, counts, counts_sum_inv):
    return dprobs * counts_sum_inv, (dprobs * counts).sum(1, keepdim=True)


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -dcounts_sum_inv * counts_sum**-2


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum * torch.ones_like(counts)


def counts_backward(dcounts, counts):
    return dcounts * counts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), -dnorm_logits.sum(1, keepdim=True)


def logit_maxes_backward(dlogit_maxes, logits):
    return F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]).double() * dlogit_maxes


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)


def h_backward(dh, h):
    return dh * (1.0 - h**2)


def hpreact_backward(dhpreact, bngain, bnraw):
    return (dhpreact * bnraw).sum(0, keepdim=True), dhpreact * bngain, dhpreact.sum(0, keepdim=True)


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    return dbnraw * bnvar_inv, (dbnraw * bndiff).sum(0, keepdim=True)


def bnvar_inv_backward(dbnvar_inv, bnvar):
    return -0.5 * dbnvar_inv * (bnvar + 1e-5) ** -1.5


def bnvar_backward(dbnvar, bndiff2):
    n = bndiff2.shape[0]
    return dbnvar * torch.ones_like(bndiff2) / (n - 1)


def bndiff2_backward(dbndiff2, bndiff):
    # power rule
    return bndiff * dbndiff2


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
    dC = torch.zeros(C.shape, dtype=torch.float16)  # half is plenty for an embedding table
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
    return dC


def manual_backward(fwd):
    # everything in double so the comparisons come out exact
    n = fwd.n
    Xb, Yb = fwd.Xb, fwd.Yb
    C, W1, W2, bngain = fwd.C.double(), fwd.W1.double(), fwd.W2.double(), fwd.bngain.double()
    emb, embcat, hprebn = fwd.emb.double(), fwd.embcat.double(), fwd.hprebn.double()
    bndiff, bndiff2, bnvar = fwd.bndiff.double(), fwd.bndiff2.double(), fwd.bnvar.double()
    bnvar_inv, bnraw, h, logits = fwd.bnvar_inv.double(), fwd.bnraw.double(), fwd.h.double(), fwd.logits.double()
    counts, counts_sum, counts_sum_inv = fwd.counts.double(), fwd.counts_sum.double(), fwd.counts_sum_inv.double()
    probs, logprobs = fwd.probs.double(), fwd.logprobs.double()

    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = dlogprobs / probs
    dcounts = dprobs * counts_sum_inv
    dcounts_sum_inv = (dprobs * counts).sum(1, keepdim=True)
    dcounts_sum = -dcounts_sum_inv * counts_sum**-2
    dcounts += dcounts_sum * torch.ones_like(counts)
    dnorm_logits = dcounts * counts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = -dnorm_logits.sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]).double() * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = dh * (1.0 - h**2)
    dbngain = (dhpreact * bnraw).sum(0, keepdim=True)
    dbnraw = dhpreact * bngain
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = dbnraw * bnvar_inv
    dbnvar_inv = (dbnraw * bndiff).sum(0, keepdim=True)
    dbnvar = -0.5 * dbnvar_inv * (bnvar + 1e-5) ** -1.5
    dbndiff2 = dbnvar * torch.ones_like(bndiff2) / (n - 1)
    dbndiff += 2 * bndiff * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = -dbndiff.sum(0, keepdim=True)
    dhprebn += dbnmeani * torch.ones_like(hprebn) / n
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = emb_backward(demb, C, Xb)
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
