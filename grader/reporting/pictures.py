"""Pictures of a wrong gradient, drawn with matplotlib as the lecture draws dlogits with
`imshow`: the student's tensor and autograd's side by side on one colour scale, so that
an answer off by a factor looks it, then their difference on a scale of its own, each
with its colour bar, and the diagnosis under them; and the loss curve of a training
run. PNG bytes, for the HTML report, `check --plot` and `train --plot`.

matplotlib is imported on first use, so grading without pictures pays nothing for it.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import torch

from grader.grading.diagnosis import Diagnosis

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = "RdBu_r"  # diverging: blue below zero, white at zero, red above
PANEL = 3.6  # inches a panel takes across
CAPTION = 150  # characters per line of the caption

# Optional, not `| None`: this alias is evaluated at run time, on Python 3.9 too.
Drawn = tuple[str, torch.Tensor, torch.Tensor, str, Optional[Diagnosis]]  # name, yours, autograd's, trial, why


def as_matrix(t: torch.Tensor) -> np.ndarray:
    """A tensor as a 2-D array: a vector is one row, (n, B, E) becomes (n, B*E)."""
    a = t.detach().double().cpu().numpy()
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return a.reshape(a.shape[0], -1)


def picture(name: str, got: torch.Tensor, expected: torch.Tensor, trial: str, diagnosis: Diagnosis | None) -> bytes:
    """A PNG of one wrong gradient: yours, autograd's, yours minus autograd's."""
    return png(figure([(name, got, expected, trial, diagnosis)]))


def pictures(drawn: Sequence[Drawn]) -> bytes:
    """A PNG of several wrong gradients, one row each."""
    return png(figure(drawn))


def figure(drawn: Sequence[Drawn]) -> Figure:
    """One row of three heatmaps per gradient, on colour scales centred on zero (the
    student's and autograd's share one), with their colour bars, and the wrapped
    diagnosis under the row."""
    from matplotlib.figure import Figure

    captions = [_caption(*row) for row in drawn]
    heights = [2.6 + 0.18 * caption.count("\n") for caption in captions]
    fig = Figure(figsize=(3 * PANEL, sum(heights)), layout="constrained")
    rows = fig.subfigures(len(drawn), 1, height_ratios=heights, squeeze=False)[:, 0]
    for row, (name, got, expected, _, _), caption in zip(rows, drawn, captions):
        mine, theirs = as_matrix(got), as_matrix(expected)
        both = _limit(mine, theirs)  # one scale: a scaled answer must look scaled beside autograd's
        panels = (
            (f"yours: {name}", mine, both),
            ("autograd", theirs, both),
            ("yours - autograd", mine - theirs, _limit(mine - theirs)),
        )
        for ax, (title, values, limit) in zip(row.subplots(1, 3), panels):
            image = ax.imshow(
                values, cmap=COLOURS, vmin=-(limit or 1.0), vmax=limit or 1.0, aspect="auto", interpolation="nearest"
            )
            ax.set_title(title, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
            row.colorbar(image, ax=ax, shrink=0.9)
        row.supxlabel(caption, fontsize=9, ha="left", x=0.01, multialignment="left")
    return fig


def _limit(*arrays: np.ndarray) -> float:
    """The largest finite magnitude in the arrays, the end of a colour scale centred on 0."""
    finite = [np.abs(a[np.isfinite(a)]) for a in arrays]
    return max((float(f.max()) for f in finite if f.size), default=1.0)


def _caption(name: str, got: Any, expected: Any, trial: str, diagnosis: Diagnosis | None) -> str:
    lines = [f"{name}, {trial}"]
    if diagnosis is not None:
        lines.append(f"[{diagnosis.code}] {diagnosis.message}")
        if diagnosis.hint:
            lines.append(f"hint: {diagnosis.hint}")
    return "\n".join(textwrap.fill(line, CAPTION) for line in lines)


def curve(values: Sequence[float], every: int, title: str) -> bytes:
    """The loss curve: one point per `every` steps, as the lecture plots it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot([i * every for i in range(len(values))], values, color="tab:red")
    ax.set_xlabel("step")
    ax.set_ylabel("log10 loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return png(fig)


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
