"""The inputs every exercise is checked on: trials, built from real forward passes.

A trial is a shape, a salt and a few deliberate quirks. Its values are drawn anew on
every run, from the run's secret seed (made in the grader's process, never sent to a
worker, recorded in the report so that --seed can repeat a run) mixed with the trial's
salt: no table of answers can be made in advance. Each draw is checked for what would
blur the verdict (near-tied logits, a batch variance near eps, repeated contexts) and
drawn again until none is left, so the measured margins hold on every trial. The forward
values are computed once in float64 (the reference's precision) and handed to students
as float32 copies (the lecture's dtype). Each set of trials below exists to catch a class of mistakes, as
measured in the course's comparison study (docs/students.md, "How a gradient is checked"): n other than 32 and V other than 27 catch hard-coded
sizes, small n makes Bessel's n vs n-1 large, a small-variance batch makes a missing eps
visible, tied maxima tell the one index `max` picks from all of them, repeated tokens
(n * B > V) catch a `dC[Xb] += demb` that drops repeats.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import torch

from grader.exercises import model
from grader.exercises.model import Shape

# A course's own forward values, from the lecture's (read-only), the trial's sizes and a
# generator of the exercise's own (catalogue.OwnValues).
OwnValues = Callable[[Mapping[str, torch.Tensor], Shape, torch.Generator], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class Trial:
    """One set of inputs: the network at one shape and seed."""

    shape: Shape
    salt: int  # mixed with the run's seed: which draw of the run this trial is
    small_variance: bool = False  # a few W1 columns scaled by 1e-3: batch variance below eps
    ties: bool = False  # rows of logits whose maximum occurs several times
    upstream_like: str | None = None  # the upstream gradient follows this forward value (plus noise)

    @property
    def quirky(self) -> bool:
        """Whether the trial holds a quirk (besides its sizes)."""
        return self.small_variance or self.ties or self.upstream_like is not None

    @property
    def label(self) -> str:
        quirks = [
            "small variance" if self.small_variance else "",
            "tied maxima" if self.ties else "",
            f"upstream ~ {self.upstream_like}" if self.upstream_like else "",
        ]
        return ", ".join([str(self.shape), *filter(None, quirks)])


LECTURE = Trial(Shape(n=32, V=27, E=10, B=3, H=64), salt=1)
SMALL = Trial(Shape(n=8, V=7, E=4, B=2, H=9), salt=2)
TINY = Trial(Shape(n=3, V=5, E=3, B=3, H=6), salt=3)
# At the lecture's n, B and E but other V and H: a function that hard-codes n, B or E
# returns here as at the lecture's trial, so that it can be graded where it returns.
WIDE = Trial(Shape(n=32, V=13, E=10, B=3, H=48), salt=4, small_variance=True)
# n = 2 saturates batchnorm (its gradient becomes pure cancellation), so only the
# functions that do not reach back through batchnorm get this one.
PAIR = Trial(Shape(n=2, V=5, E=3, B=3, H=4), salt=5)
TIES = Trial(Shape(n=16, V=11, E=5, B=3, H=20), salt=6, ties=True)
# With a random upstream alone, the biased-variance mistake in the fused batchnorm can hide.
CORRELATED = Trial(Shape(n=64, V=27, E=10, B=3, H=64), salt=7, upstream_like="bnraw")

STANDARD = (LECTURE, SMALL, TINY, WIDE)
OUTSIDE_BATCHNORM = (*STANDARD, PAIR)
WITH_TIES = (*OUTSIDE_BATCHNORM, TIES)
FUSED_BATCHNORM = (*STANDARD, CORRELATED)

SMALL_VARIANCE_COLUMNS = 3
SMALL_VARIANCE_FACTOR = 1e-3
# What a draw must keep clear of, else it is drawn again: the gap between a row's two
# largest logits (float32 must not reorder them: 6e-8 relative), and a hidden unit's batch
# variance. Leaving eps out of (bnvar + eps) changes a gradient by about 1.5 eps / var:
# at a variance of 0.5 that is a third of the tolerance, so eps stays invisible outside
# the small-variance trial, whose three scaled units sit far below eps on purpose.
LOGIT_GAP = 1e-4
LEAST_VARIANCE = 0.5
DRAWS = 1000


def mixed(*parts: object) -> int:
    """A 63-bit seed from the run's seed and what names one draw in it."""
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "little") >> 1


class TrialData:
    """The forward values of one trial in one run: float64 for the reference, float32
    for students."""

    def __init__(self, trial: Trial, seed: int):
        self.trial, self.seed = trial, seed
        self._own: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
        shape = trial.shape
        g = torch.Generator().manual_seed(mixed(seed, trial.salt))
        for _ in range(DRAWS):
            params = model.init_parameters(shape, g)
            if trial.small_variance:
                params["W1"][:, :SMALL_VARIANCE_COLUMNS] *= SMALL_VARIANCE_FACTOR
            self.Xb = torch.randint(0, shape.V, (shape.n, shape.B), generator=g)
            self.Yb = torch.randint(0, shape.V, (shape.n,), generator=g)
            self.params = {k: p.double() for k, p in params.items()}
            if self._clear():
                break
        else:
            raise RuntimeError(f"no clear draw for the trial {trial.label} in {DRAWS} tries")

    def _clear(self) -> bool:
        """Whether this draw keeps clear of what would blur the verdict: two equal
        contexts at small n (dW1 and dC become pure cancellation), near-tied logits
        (outside the tied-maxima trial), a hidden unit's variance near eps."""
        if len(torch.unique(self.Xb, dim=0)) < min(3, self.trial.shape.n):
            return False
        with torch.no_grad():
            values = model.forward(self.params, self.Xb, self.Yb)
        top = values["logits"].topk(2, dim=1).values
        if not self.trial.ties and bool(((top[:, 0] - top[:, 1]) < LOGIT_GAP).any()):
            return False
        variance = values["bnvar"].flatten()
        if self.trial.small_variance:
            variance = variance[SMALL_VARIANCE_COLUMNS:]
        return self.trial.shape.n <= 2 or not bool((variance < LEAST_VARIANCE).any())

    @cached_property
    def exploded(self) -> dict[str, torch.Tensor]:
        """Every tensor of exercise 1's forward pass, float64."""
        with torch.no_grad():
            values = model.forward(self.params, self.Xb, self.Yb)
            if self.trial.ties:
                values["logits"] = tie_maxima(values["logits"])
                values.update(model.softmax_loss_forward(values["logits"], self.Yb))
        return values

    @cached_property
    def fused(self) -> dict[str, torch.Tensor]:
        """The parameters, batch and forward values of exercise 4's fused pass, float64."""
        with torch.no_grad():
            return model.fused_forward(self.params, self.Xb, self.Yb)

    def own(self, key: tuple[str, str], values: OwnValues | None) -> dict[str, torch.Tensor]:
        """A course exercise's own forward values (float64), made by its `values` (keyed
        by its module and function) from the lecture's values of this trial and a random
        stream of the exercise's own: nothing else drawn moves."""
        if values is None:  # a lecture exercise: its values are the lecture's
            return {}
        if key not in self._own:
            g = torch.Generator().manual_seed(mixed(self.seed, self.trial.salt, *key))
            with torch.no_grad():
                made = values(MappingProxyType(self.exploded), self.trial.shape, g)
            self._own[key] = {k: v.double() if v.is_floating_point() else v for k, v in made.items()}
        return self._own[key]

    def upstream(self, output: torch.Tensor, salt: str) -> torch.Tensor:
        """A float64 gradient for `output`, drawn for this run, trial and `salt`."""
        g = torch.Generator().manual_seed(mixed(self.seed, self.trial.salt, salt))
        noise = torch.randn(output.shape, generator=g, dtype=torch.float64)
        if self.trial.upstream_like is None:
            return noise
        like = self.exploded[self.trial.upstream_like]
        return like / like.abs().max() + 0.1 * noise


def tie_maxima(logits: torch.Tensor) -> torch.Tensor:
    """Copy each row's maximum into an earlier and a later column of every other row, and
    make the last row all equal, so `max` has to pick one index among equals."""
    tied = logits.clone()
    V = logits.shape[1]
    top = logits.argmax(1)
    for i in range(0, logits.shape[0] - 1, 2):
        for j in (0, V - 1):
            if j != top[i]:
                tied[i, j] = logits[i, top[i]]
    tied[-1] = logits[-1].max()
    return tied


@functools.lru_cache(maxsize=64)
def trial_data(trial: Trial, seed: int) -> TrialData:
    """A trial's forward values in one run, made once per process: every submission a
    batch job grades shares them (they are only read)."""
    return TrialData(trial, seed)
