import torch
import torch.nn.functional as F

# short versions of my notebook cells. everything checked with cmp() in the notebook first.


def loss_backward(dloss, logprobs, Yb):
    n = logprobs.shape[0]
    d = torch.zeros_like(logprobs)
    d[torch.arange(n), Yb] = -1.0
    return d * (dloss / n)


def logprobs_backward(dlogprobs, probs):
    return dlogprobs * probs.reciprocal()


def probs_backward(dprobs, counts, counts_sum_inv):
    return dprobs * counts_sum_inv, torch.einsum("ij,ij->i", dprobs, counts).unsqueeze(1)


def counts_sum_inv_backward(dcounts_sum_inv, counts_sum):
    return -dcounts_sum_inv * counts_sum**-2


def counts_sum_backward(dcounts_sum, counts):
    return dcounts_sum.repeat(1, counts.shape[1])


def counts_backward(dcounts, counts):
    return dcounts * counts


def norm_logits_backward(dnorm_logits):
    return dnorm_logits.clone(), -dnorm_logits.sum(1).unsqueeze(1)


def logit_maxes_backward(dlogit_maxes, logits):
    mask = F.one_hot(logits.max(1).indices, logits.shape[1]).bool()
    return torch.where(mask, dlogit_maxes, torch.zeros_like(logits))


def logits_backward(dlogits, h, W2):
    return dlogits @ W2.t(), torch.einsum("ni,nj->ij", h, dlogits), dlogits.sum(0)


def h_backward(dh, h):
    return dh - dh * h**2


def hpreact_backward(dhpreact, bngain, bnraw):
    return (dhpreact * bnraw).sum(0)[None, :], dhpreact * bngain, dhpreact.sum(0)[None, :]


def bnraw_backward(dbnraw, bndiff, bnvar_inv):
    return dbnraw * bnvar_inv, (dbnraw * bndiff).sum(0)[None, :]


def bnvar_inv_backward(dbnvar_inv, bnvar):
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    return -0.5 * bnvar_inv**3 * dbnvar_inv  # (v+eps)^-1.5 == inv^3


def bnvar_backward(dbnvar, bndiff2):
    n = len(bndiff2)
    return dbnvar.repeat(n, 1) / (n - 1)


def bndiff2_backward(dbndiff2, bndiff):
    return dbndiff2 * bndiff * 2


def bndiff_backward(dbndiff):
    return dbndiff.clone(), -dbndiff.sum(0)[None, :]


def bnmeani_backward(dbnmeani, hprebn):
    n = len(hprebn)
    return dbnmeani.repeat(n, 1) / n


def hprebn_backward(dhprebn, embcat, W1):
    return dhprebn @ W1.t(), embcat.t() @ dhprebn, dhprebn.sum(0)


def embcat_backward(dembcat, emb):
    n, B, E = emb.shape
    return dembcat.reshape(n, B, E)


def emb_backward(demb, C, Xb):
    V, E = C.shape
    onehot = F.one_hot(Xb.view(-1), V).to(demb.dtype)  # (n*B, V)
    return onehot.t() @ demb.reshape(-1, E)


def manual_backward(fwd):
    # do the whole chain in float64, it makes the cmp() differences exactly 0 in the notebook
    T = lambda name: getattr(fwd, name).double()
    n = fwd.n
    Xb, Yb = fwd.Xb, fwd.Yb
    counts, counts_sum, probs = T("counts"), T("counts_sum"), T("probs")
    h, hpreact, bnraw, bndiff = T("h"), T("hpreact"), T("bnraw"), T("bndiff")
    bnvar, bnvar_inv = T("bnvar"), T("bnvar_inv")
    W1, W2, bngain, C = T("W1"), T("W2"), T("bngain"), T("C")

    d = {}
    d["logprobs"] = torch.zeros_like(probs)
    d["logprobs"][torch.arange(n), Yb] = -1.0 / n
    d["probs"] = d["logprobs"] / probs
    d["counts_sum_inv"] = (d["probs"] * counts).sum(1, keepdim=True)
    d["counts_sum"] = -d["counts_sum_inv"] / counts_sum**2
    d["counts"] = d["probs"] / counts_sum + d["counts_sum"]  # second term broadcasts over columns
    d["norm_logits"] = d["counts"] * counts
    d["logit_maxes"] = -d["norm_logits"].sum(1, keepdim=True)
    d["logits"] = d["norm_logits"] + F.one_hot(fwd.logits.argmax(1), fwd.logits.shape[1]) * d["logit_maxes"]
    d["h"] = d["logits"] @ W2.t()
    d["W2"] = h.t() @ d["logits"]
    d["b2"] = d["logits"].sum(0)
    d["hpreact"] = d["h"] / torch.cosh(hpreact) ** 2  # sech^2
    d["bngain"] = (d["hpreact"] * bnraw).sum(0, keepdim=True)
    d["bnbias"] = d["hpreact"].sum(0, keepdim=True)
    d["bnraw"] = d["hpreact"] * bngain
    d["bnvar_inv"] = (d["bnraw"] * bndiff).sum(0, keepdim=True)
    d["bnvar"] = -0.5 * bnvar_inv**3 * d["bnvar_inv"]
    d["bndiff2"] = d["bnvar"].expand(n, -1) / (n - 1)
    d["bndiff"] = d["bnraw"] * bnvar_inv + 2 * bndiff * d["bndiff2"]
    d["bnmeani"] = -d["bndiff"].sum(0, keepdim=True)
    d["hprebn"] = d["bndiff"] + d["bnmeani"] / n
    d["embcat"] = d["hprebn"] @ W1.t()
    d["W1"] = T("embcat").t() @ d["hprebn"]
    d["b1"] = d["hprebn"].sum(0)
    d["emb"] = d["embcat"].view(fwd.emb.shape)
    d["C"] = F.one_hot(Xb.view(-1), C.shape[0]).double().t() @ d["emb"].view(-1, C.shape[1])
    d["loss"] = torch.tensor(1.0, dtype=torch.float64)  # d loss / d loss, handy in the notebook
    return d
