"""Pictures of a wrong gradient: the student's tensor, the reference and their
difference as heatmaps side by side (as the lecture shows dlogits with imshow), with the
diagnosis under them. PNG bytes, for the HTML report and `check --plot`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import torch

from grader.diagnosis import Diagnosis

# A diverging colour map: blue for negative, white for zero, red for positive.
NEGATIVE, ZERO, POSITIVE = np.array([59, 76, 192]), np.array([247, 247, 247]), np.array([180, 4, 38])
PANEL = 240  # pixels on the longer side of a heatmap
MARGIN = 12
TEXT = 14  # pixels per line of text


def as_matrix(t: torch.Tensor) -> np.ndarray:
    """A tensor as a 2-D array: a vector is one row, (n, B, E) becomes (n, B*E)."""
    a = t.detach().double().cpu().numpy()
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return a.reshape(a.shape[0], -1)


def heatmap(values: np.ndarray, limit: float) -> np.ndarray:
    """RGB pixels of a matrix on the colour map, symmetric around zero up to `limit`,
    each entry a square block so that the longer side is about PANEL pixels."""
    x = np.clip(values / limit, -1, 1) if limit > 0 else np.zeros_like(values)
    x = np.nan_to_num(x)[..., None]
    rgb = np.where(x < 0, ZERO + (NEGATIVE - ZERO) * -x, ZERO + (POSITIVE - ZERO) * x).astype(np.uint8)
    scale = max(1, PANEL // max(values.shape))
    return rgb.repeat(scale, axis=0).repeat(scale, axis=1)


def picture(name: str, got: torch.Tensor, expected: torch.Tensor, trial: str, diagnosis: Diagnosis | None) -> bytes:
    """A PNG with three heatmaps (yours, autograd's, yours minus autograd's) and the
    diagnosis under them."""
    from PIL import Image, ImageDraw, ImageFont

    mine, theirs = as_matrix(got), as_matrix(expected)
    limit = float(max(np.abs(theirs).max(), 1e-30))
    difference = mine - theirs
    spread = float(np.abs(difference).max())
    panels = [
        (f"yours: {name}", heatmap(mine, limit), f"colour scale ±{limit:.3g}"),
        ("autograd", heatmap(theirs, limit), f"colour scale ±{limit:.3g}"),
        ("yours - autograd", heatmap(difference, spread), f"colour scale ±{spread:.3g}"),
    ]
    lines = [f"{name}, {trial}"]
    if diagnosis is not None:
        lines += [f"[{diagnosis.code}] {diagnosis.message}"] + ([f"hint: {diagnosis.hint}"] if diagnosis.hint else [])
    font = ImageFont.load_default()
    height = max(p.shape[0] for _, p, _ in panels)
    width = sum(p.shape[1] for _, p, _ in panels) + MARGIN * 4
    text_width = max(len(line) for line in lines) * 7 + 2 * MARGIN
    canvas = Image.new("RGB", (max(width, text_width, 480), height + TEXT * (3 + len(lines)) + MARGIN * 2), "white")
    draw = ImageDraw.Draw(canvas)
    x = MARGIN
    for title, pixels, scale in panels:
        draw.text((x, MARGIN), title, fill="black", font=font)
        canvas.paste(Image.fromarray(pixels), (x, MARGIN + TEXT + 2))
        draw.text((x, MARGIN + TEXT + height + 4), scale, fill="#555555", font=font)
        x += pixels.shape[1] + MARGIN
    y = MARGIN + TEXT * 2 + height + 12
    for line in lines:
        draw.text((MARGIN, y), line, fill="black", font=font)
        y += TEXT
    return png(canvas)


def stacked(pictures: Sequence[bytes]) -> bytes:
    """Several pictures one under the other, as one PNG."""
    from PIL import Image

    images = [Image.open(io.BytesIO(p)).convert("RGB") for p in pictures]
    canvas = Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images)), "white")
    y = 0
    for image in images:
        canvas.paste(image, (0, y))
        y += image.height
    return png(canvas)


def png(image: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def curve(values: Sequence[float], every: int, title: str) -> bytes:
    """A line chart of `values`, one point per `every` steps, with its axes labelled."""
    from PIL import Image, ImageDraw, ImageFont

    width, height, left, bottom, top = 640, 400, 64, 40, 28
    font = ImageFont.load_default()
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    span_x, span_y = max(len(values) - 1, 1), high - low

    def at(i: int, v: float) -> tuple[float, float]:
        return left + (width - left - 16) * i / span_x, top + (height - top - bottom) * (high - v) / span_y

    draw.rectangle([left, top, width - 16, height - bottom], outline="#888888")
    for k in range(5):
        v = low + span_y * k / 4
        y = at(0, v)[1]
        draw.line([left - 4, y, left, y], fill="#888888")
        draw.text((4, y - 6), f"{v:.3f}", fill="black", font=font)
        i = round(span_x * k / 4)
        x = at(i, low)[0]
        draw.line([x, height - bottom, x, height - bottom + 4], fill="#888888")
        draw.text((x - 16, height - bottom + 8), f"{i * every:,}", fill="black", font=font)
    draw.line([at(i, v) for i, v in enumerate(values)], fill=(180, 4, 38), width=2)
    draw.text((left, 8), f"{title} (step on the x axis)", fill="black", font=font)
    return png(canvas)
