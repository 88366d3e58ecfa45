"""The seeds: a run's secret one, which draws every trial of the run (here, apart from the
trials, so that the pytest plugin can draw one for xdist's workers without importing
torch), and the lecture's, which its training run uses."""

from __future__ import annotations

import secrets

LECTURE = 2147483647  # the lecture's generator seed: its training run, in train and the notebook


def new_seed() -> int:
    """A run's secret seed."""
    return secrets.randbits(48)
