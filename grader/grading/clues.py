"""What the diagnosis of a wrong gradient may use beyond the two tensors: the trial's
target entries, maxima and repeated tokens, and, for the chain of manual_backward, the
branch through each consumer of a value and the local backward of the student's own
upstream gradients.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from grader.exercises.catalogue import ATOMIC, BATCHNORM, MANUAL_BACKWARD, Exercise
from grader.exercises.model import EPS
from grader.exercises.trials import Trial
from grader.grading.diagnosis import Context

# For each value of the chain, the atomic ops that consume it (whose output is in the chain).
CONSUMERS: dict[str, tuple[Exercise, ...]] = {
    key: tuple(op for op in ATOMIC if key in op.wrt and op.upstream in MANUAL_BACKWARD.wrt)
    for key in MANUAL_BACKWARD.wrt
}


def context(
    exercise: Exercise,
    trial: Trial,
    values: Mapping[str, torch.Tensor],
    reference: Mapping[str, torch.Tensor],
    key: str,
    students: Mapping[str, Any],
    wrong_keys: set[str],
    tolerance: float,
    upstream: torch.Tensor | None = None,
    dtype: torch.dtype = torch.float32,
) -> Context:
    """The context of gradient `key` of `exercise` in one trial. `students` holds the
    student's returned values by key (for the chain), `wrong_keys` the keys wrong there,
    `upstream` the upstream gradient the function was given, `dtype` what it returned."""
    n, V = trial.shape.n, trial.shape.V
    logits = values["logits"]
    counts = torch.bincount(values["Xb"].flatten(), minlength=V)
    chain = exercise is MANUAL_BACKWARD
    return Context(
        n=n,
        V=V,
        trial=trial.label,
        targets=(torch.arange(n), values["Yb"]),
        maxima=logits == logits.max(1, keepdim=True).values,
        repeated=counts > 1,
        once=counts == 1,
        low_variance=None if exercise.of_course else _batch_variance(values) < EPS,
        branches=_branches(key, values, reference)
        if chain
        else _batchnorm_paths(values, upstream)
        if exercise is BATCHNORM and key == "hprebn" and upstream is not None
        else {},
        from_students_upstream=_from_students_upstream(key, values, students) if chain else None,
        upstream_keys=tuple(op.upstream for op in CONSUMERS.get(key, ()) if op.upstream in wrong_keys) if chain else (),
        **(_local(key, values, reference) if chain else _given(exercise, values, key, upstream)),
        dtype=dtype,
        tolerance=tolerance,
        course=exercise.of_course,
    )


def _given(
    exercise: Exercise, values: Mapping[str, torch.Tensor], key: str, upstream: torch.Tensor | None
) -> dict[str, Any]:
    """A function's gradient as if its upstream gradient were all ones, and that upstream."""
    if upstream is None:
        return {}
    return {
        "without_upstream": exercise.reference(values, torch.ones_like(upstream))[key],
        "upstream_name": f"d{exercise.upstream}" if exercise.upstream else "",
        "upstream": upstream.double(),
    }


def _local(key: str, values: Mapping[str, torch.Tensor], reference: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """The same for a value of the chain with one consumer: its step's local derivative
    and the right gradient that flows into that step, so that a key whose one step is
    wrong is told how, as its atomic function would be."""
    consumers = CONSUMERS.get(key, ())
    step = consumers[0].upstream if len(consumers) == 1 else None
    if step is None:
        return {}
    flowing = reference[step]
    return {
        "without_upstream": consumers[0].reference(values, torch.ones_like(flowing))[key],
        "upstream_name": f"d{step}",
        "upstream": flowing.double(),
    }


def _batch_variance(values: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Per hidden unit, from either forward pass (the fused one keeps only bnvar_inv)."""
    return values["bnvar"][0] if "bnvar" in values else values["bnvar_inv"][0] ** -2 - EPS


def _branches(key: str, values: Mapping[str, torch.Tensor], reference: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """The reference gradient of `key` through each of its consumers, when it has two."""
    consumers = CONSUMERS.get(key, ())
    if len(consumers) < 2:
        return {}
    return {op.upstream: op.reference(values, reference[op.upstream])[key] for op in consumers if op.upstream}


def _batchnorm_paths(values: Mapping[str, torch.Tensor], upstream: torch.Tensor) -> dict[str, torch.Tensor]:
    """The fused batchnorm's gradient of hprebn along each of its paths to hpreact
    besides the direct one: through the batch mean, and through the batch variance."""
    x = values["hprebn"].detach()

    def along(mean: bool, variance: bool) -> torch.Tensor:
        leaf = x.clone().requires_grad_()
        through_mean, through_variance = (leaf if mean else x), (leaf if variance else x)
        with torch.enable_grad():
            centred = x - through_mean.mean(0, keepdim=True)
            spread = through_variance.var(0, keepdim=True, unbiased=True)
            out = values["bngain"] * centred * (spread + EPS) ** -0.5
            return torch.autograd.grad((out * upstream).sum(), leaf)[0]

    return {"the batch mean": along(True, False), "the batch variance": along(False, True)}


def _from_students_upstream(key: str, values: Mapping[str, torch.Tensor], students: Mapping[str, Any]) -> Any:
    """The local backward of `key` applied to the student's own gradients of its
    consumers' outputs, or None when one of those is unusable."""
    consumers = CONSUMERS.get(key, ())
    total = None
    for op in consumers:
        upstream = students.get(op.upstream or "")
        if op.upstream is None or not isinstance(upstream, torch.Tensor) or upstream.shape != values[op.upstream].shape:
            return None
        part = op.reference(values, upstream.detach().double())[key]
        total = part if total is None else total + part
    return total
