"""The lecture's network: its parameters and its two forward passes.

`forward` is the exploded forward pass of exercise 1 (every intermediate kept, so each
atomic backward function and the whole chain can be checked against it); `fused_forward`
is the compact one of exercise 4. Both work in whatever dtype the parameters have.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

EPS = 1e-5  # batchnorm's eps, as in the lecture

PARAMETERS = ("C", "W1", "b1", "W2", "b2", "bngain", "bnbias")

# The tensors of the exploded forward pass that manual_backward returns gradients for,
# in the order the lecture backpropagates through them.
CHAIN = (
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
)

# The forward values of the fused pass that mlp_backward receives besides the parameters.
FUSED = ("emb", "embcat", "hprebn", "bnvar_inv", "bnraw", "hpreact", "h", "logits", "loss")


@dataclass(frozen=True)
class Shape:
    """The sizes of one instance of the network."""

    n: int  # batch size
    V: int  # vocabulary size
    E: int  # embedding size
    B: int  # block size: how many previous characters the network sees
    H: int  # hidden size

    def __str__(self) -> str:
        return f"n={self.n} V={self.V} E={self.E} B={self.B} H={self.H}"


def init_parameters(shape: Shape, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The lecture's initialisation, float32. Its small random biases and gains (instead of
    zeros and ones) are on purpose: zeros would hide mistakes in their gradients."""
    V, E, B, H = shape.V, shape.E, shape.B, shape.H
    g = generator
    return {
        "C": torch.randn((V, E), generator=g),
        "W1": torch.randn((B * E, H), generator=g) * (5 / 3) / (B * E) ** 0.5,
        "b1": torch.randn(H, generator=g) * 0.1,
        "W2": torch.randn((H, V), generator=g) * 0.1,
        "b2": torch.randn(V, generator=g) * 0.1,
        "bngain": torch.randn((1, H), generator=g) * 0.1 + 1.0,
        "bnbias": torch.randn((1, H), generator=g) * 0.1,
    }


def forward(params: dict[str, torch.Tensor], Xb: torch.Tensor, Yb: torch.Tensor) -> dict[str, torch.Tensor]:
    """The exploded forward pass of exercise 1: every tensor it names, parameters and
    batch included."""
    p = params
    v = first_layer(p, Xb, Yb)
    v.update(batchnorm_forward(v["hprebn"], p["bngain"], p["bnbias"]))
    v["h"] = torch.tanh(v["hpreact"])  # (n, H)
    v["logits"] = v["h"] @ p["W2"] + p["b2"]  # (n, V)
    v.update(softmax_loss_forward(v["logits"], Yb))
    return v


def first_layer(params: dict[str, torch.Tensor], Xb: torch.Tensor, Yb: torch.Tensor) -> dict[str, torch.Tensor]:
    """The parameters, the batch, and the forward pass up to the batchnorm, which both
    passes share."""
    v = dict(params, Xb=Xb, Yb=Yb)
    v["emb"] = params["C"][Xb]  # (n, B, E)
    v["embcat"] = v["emb"].view(Xb.shape[0], -1)  # (n, B*E)
    v["hprebn"] = torch.addmm(params["b1"], v["embcat"], params["W1"])  # embcat @ W1 + b1: (n, H)
    return v


def batchnorm_forward(hprebn: torch.Tensor, bngain: torch.Tensor, bnbias: torch.Tensor) -> dict[str, torch.Tensor]:
    """The batchnorm block of the exploded pass, step by step."""
    n = len(hprebn)
    v = {}
    v["bnmeani"] = 1 / n * hprebn.sum(0, keepdim=True)  # (1, H)
    v["bndiff"] = hprebn - v["bnmeani"]  # (n, H)
    v["bndiff2"] = v["bndiff"] ** 2  # (n, H)
    v["bnvar"] = 1 / (n - 1) * v["bndiff2"].sum(0, keepdim=True)  # (1, H)
    v["bnvar_inv"] = (v["bnvar"] + EPS) ** -0.5  # (1, H)
    v["bnraw"] = v["bndiff"] * v["bnvar_inv"]  # (n, H)
    v["hpreact"] = bngain * v["bnraw"] + bnbias  # (n, H)
    return v


def softmax_loss_forward(logits: torch.Tensor, Yb: torch.Tensor) -> dict[str, torch.Tensor]:
    """The cross-entropy of the exploded pass, step by step, from the logits on."""
    n = len(logits)
    v = {}
    v["logit_maxes"] = logits.max(1, keepdim=True).values  # (n, 1)
    v["norm_logits"] = logits - v["logit_maxes"]  # (n, V)
    v["counts"] = v["norm_logits"].exp()  # (n, V)
    v["counts_sum"] = v["counts"].sum(1, keepdim=True)  # (n, 1)
    v["counts_sum_inv"] = v["counts_sum"] ** -1  # (n, 1)
    v["probs"] = v["counts"] * v["counts_sum_inv"]  # (n, V)
    v["logprobs"] = v["probs"].log()  # (n, V)
    v["loss"] = -v["logprobs"][torch.arange(n), Yb].mean()  # ()
    return v


def fused_forward(params: dict[str, torch.Tensor], Xb: torch.Tensor, Yb: torch.Tensor) -> dict[str, torch.Tensor]:
    """The compact forward pass of exercise 4, with the values mlp_backward receives.
    Fused torch ops where one does the work of two (the training loop runs it 200,000
    times); the spec's line is beside each."""
    p = params
    v = first_layer(p, Xb, Yb)
    n = Xb.shape[0]
    # bnmean = hprebn.mean(0, keepdim=True); bnvar = hprebn.var(0, keepdim=True, unbiased=True),
    # the latter from the differences (torch's var kernel takes 5 times as long at this size)
    bndiff = v["hprebn"] - v["hprebn"].mean(0, keepdim=True)
    bnvar = bndiff.square().sum(0, keepdim=True) / (n - 1)
    v["bnvar_inv"] = torch.rsqrt(bnvar + EPS)  # (bnvar + 1e-5)**-0.5: (1, H)
    v["bnraw"] = bndiff * v["bnvar_inv"]  # (hprebn - bnmean) * bnvar_inv: (n, H)
    v["hpreact"] = torch.addcmul(p["bnbias"], p["bngain"], v["bnraw"])  # bngain * bnraw + bnbias: (n, H)
    v["h"] = torch.tanh(v["hpreact"])  # (n, H)
    v["logits"] = torch.addmm(p["b2"], v["h"], p["W2"])  # h @ W2 + b2: (n, V)
    v["loss"] = F.cross_entropy(v["logits"], Yb)  # ()
    return v


def bad_gradient(grads: object, shapes: dict[str, torch.Size]) -> tuple[str, str] | None:
    """The first parameter whose gradient mlp_backward did not return as a float tensor of
    its shape, and the reason; None when every one is there."""
    for k in PARAMETERS:
        got = grads.get(k) if isinstance(grads, dict) else None
        if not isinstance(got, torch.Tensor) or got.shape != shapes[k] or not got.is_floating_point():
            return k, f"mlp_backward must return a dict with a float tensor of shape {tuple(shapes[k])} for {k!r}"
    return None
