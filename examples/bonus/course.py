"""A bonus assignment: LayerNorm instead of batchnorm, GELU instead of tanh.

Two exercises of a module of their own (ex5_bonus.py), graded beside the lecture's
by backprop-ninja: its rubric (rubric.toml, beside this file) names this file.
"""

import math

import torch

from grader.exercises.course import exercise, wrong

EPS = 1e-5


def layernorm(fwd, dim=1, correction=0):
    mean = fwd.x.mean(dim, keepdim=True)
    var = fwd.x.var(dim, keepdim=True, correction=correction)
    return fwd.gain * (fwd.x - mean) / torch.sqrt(var + EPS) + fwd.bias


def own_layer(lecture, shape, g):
    """The hidden layer's pre-activations (the lecture's), and a gain and bias of our own."""
    return {
        "x": lecture.hprebn,
        "gain": 1 + 0.1 * torch.randn(1, shape.H, generator=g, dtype=torch.float64),
        "bias": 0.1 * torch.randn(1, shape.H, generator=g, dtype=torch.float64),
    }


def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


EXERCISES = [
    exercise(
        "ex5_bonus",
        "layernorm_backward",
        "out = gain * (x - x.mean(1)) / sqrt(x.var(1, unbiased=False) + 1e-5) + bias",
        layernorm,
        wrt=("x", "gain", "bias"),
        upstream="out",
        args=("x", "gain"),
        values=own_layer,
        points=3,
        mistakes=[
            wrong(
                "normalising over the batch (dim 0) instead of over each row",
                "LayerNorm takes the mean and variance of each row (dim 1), over the hidden units",
                forward=lambda fwd: layernorm(fwd, dim=0),
            ),
            wrong(
                "a variance divided by H - 1",
                "LayerNorm's variance divides by H, not H - 1 (unbiased=False)",
                forward=lambda fwd: layernorm(fwd, correction=1),
            ),
        ],
    ),
    exercise(
        "ex5_bonus",
        "gelu_backward",
        "out = 0.5 * x * (1 + erf(x / sqrt(2)))",
        lambda fwd: gelu(fwd.x),
        wrt=("x",),
        upstream="out",
        args=("x",),
        values=lambda lecture, shape, g: {"x": lecture.hpreact},
        points=2,
        mistakes=[
            wrong(
                "Phi(x) alone, without the x * phi(x) term",
                "by the product rule, d/dx [x * Phi(x)] = Phi(x) + x * phi(x), phi the normal density",
                gradients=lambda fwd, dout: {"x": dout * 0.5 * (1 + torch.erf(fwd.x / math.sqrt(2)))},
            ),
        ],
    ),
]
