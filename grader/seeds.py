"""A run's secret seed, which draws every trial of the run: here, apart from the trials,
so that the pytest plugin can draw one for xdist's workers without importing torch."""

from __future__ import annotations

import secrets


def new_seed() -> int:
    """A run's secret seed."""
    return secrets.randbits(48)
