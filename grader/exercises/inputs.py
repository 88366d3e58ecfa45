"""What one call of an exercise's function is given in one trial: the forward values,
the upstream gradient, and the student's own copies of the arguments."""

from __future__ import annotations

from typing import Any

import torch

from grader.exercises.catalogue import Exercise
from grader.exercises.trials import Trial, trial_data


def inputs(
    exercise: Exercise, trial: Trial, seed: int
) -> tuple[dict[str, torch.Tensor], torch.Tensor | None, dict[str, Any]]:
    """What one trial of an exercise needs in the run of `seed`: the forward values
    (float64), the upstream gradient if the function takes one, and the student's
    float32 arguments."""
    data = trial_data(trial, seed)
    values = data.fused if exercise.fwd == "fused" else data.exploded
    if exercise.values is not None:
        values = {**values, **data.own((exercise.module, exercise.function), exercise.values)}
    upstream = data.upstream(values[exercise.upstream], exercise.function) if exercise.upstream else None
    return values, upstream, student_arguments(exercise, values, upstream)


def student_arguments(
    exercise: Exercise, values: dict[str, torch.Tensor], upstream: torch.Tensor | None
) -> dict[str, Any]:
    """Fresh float32 copies of what the student's function is called with, by name."""
    if exercise.fwd is not None:
        return {**{k: _student_copy(v) for k, v in values.items()}, "n": int(values["Xb"].shape[0])}
    arguments = {f"d{exercise.upstream}": upstream.float()} if upstream is not None else {}
    return {**arguments, **{name: _student_copy(values[name]) for name in exercise.args}}


def _student_copy(value: torch.Tensor) -> torch.Tensor:
    return value.float() if value.is_floating_point() else value.clone()
