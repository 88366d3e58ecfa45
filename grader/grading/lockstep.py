"""The training check (ex4.training): SGD driven by the student's mlp_backward must follow
SGD driven by autograd, step for step. (The full training run is exercises/training.py;
its comparisons with autograd, --check-every, are `check_step`'s, made here, where
autograd may run.)

Both runs start from the same parameters and see the same batches: at each step the
student's call goes out and its update is applied; autograd's run, the same for every
submission graded on one seed, is made once (`reference`). The losses of every step and
the final parameters are compared with the one comparison of compare.py. The task is synthetic (the next token is a fixed
function of the last one, with noise) so that the check needs no data file and the loss
falls quickly; its start and its batches are drawn from the run's secret seed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from grader.calls.call import Call, Failure
from grader.calls.limits import Limits
from grader.exercises import model
from grader.exercises.catalogue import MLP_BACKWARD, fused_reference
from grader.exercises.model import PARAMETERS, Shape
from grader.exercises.training import update
from grader.exercises.trials import mixed
from grader.grading.compare import Comparison, compare
from grader.grading.diagnosis import Diagnosis
from grader.sandbox.client import max_reply

SHAPE = Shape(n=32, V=27, E=10, B=3, H=64)
STEPS = 200
LEARNING_RATE = 0.1
NOISE = 0.2  # the share of batch targets drawn at random instead

Tensors = dict[str, torch.Tensor]


def batches(seed: int, shape: Shape = SHAPE, steps: int = STEPS) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Contexts and next tokens of a learnable synthetic language, one batch per step."""
    g = torch.Generator().manual_seed(mixed(seed, "lockstep batches"))
    successor = torch.randperm(shape.V, generator=g)
    out = []
    for _ in range(steps):
        Xb = torch.randint(0, shape.V, (shape.n, shape.B), generator=g)
        Yb = successor[Xb[:, -1]]
        noisy = torch.rand(shape.n, generator=g) < NOISE
        out.append((Xb, torch.where(noisy, torch.randint(0, shape.V, (shape.n,), generator=g), Yb)))
    return out


def autograd_step(params: Tensors, Xb: torch.Tensor, Yb: torch.Tensor) -> tuple[float, Tensors]:
    """The loss and autograd's gradients at `params`."""
    leaves = {k: p.detach().clone().requires_grad_() for k, p in params.items()}
    with torch.enable_grad():
        loss = model.fused_forward(leaves, Xb, Yb)["loss"]
        grads = torch.autograd.grad(loss, list(leaves.values()))
    return float(loss.detach()), dict(zip(model.PARAMETERS, grads))


class StepFailure(Exception):
    def __init__(self, step: int, failure: Failure):
        self.step, self.failure = step, failure


def gradients(call: Call, step: int, shapes: Mapping[str, torch.Size]) -> Mapping[str, torch.Tensor]:
    """The student's gradients of one step, or the StepFailure that stops the run."""
    if call.failure:
        raise StepFailure(step, call.failure)
    bad = model.bad_gradient(call.value, dict(shapes))
    if bad is not None:
        raise StepFailure(step, Failure("bad_return", bad[1]))
    return call.value


@dataclass(frozen=True)
class Reference:
    """Autograd's side of the check in the run of one seed: the same for every
    submission graded on it (a batch job grades a class on one seed), so made once."""

    start: Tensors  # the parameters both runs start from
    batches: list[tuple[torch.Tensor, torch.Tensor]]
    losses: list[float]  # autograd's loss at each step
    params: Tensors  # autograd's parameters after the last step


@functools.lru_cache(maxsize=1)
def reference(seed: int) -> Reference:
    """Autograd's run of the check for `seed` (its tensors are only read)."""
    start = model.init_parameters(SHAPE, torch.Generator().manual_seed(mixed(seed, "lockstep start")))
    params = {k: p.clone() for k, p in start.items()}
    steps = batches(seed)
    losses = []
    for Xb, Yb in steps:
        loss, grads = autograd_step(params, Xb, Yb)
        with torch.no_grad():
            update([params[k] for k in model.PARAMETERS], grads, LEARNING_RATE)
        losses.append(loss)
    return Reference(start, steps, losses, params)


def lockstep(
    submission: Any, limits: Callable[[], Limits | None], seed: int
) -> tuple[list[float], Tensors, list[float], Tensors]:
    """Both runs: the student's losses and parameters, then autograd's. `limits` gives
    each call's limits, or None once the time budget has run out."""
    ref = reference(seed)
    params = {k: p.clone() for k, p in ref.start.items()}
    shapes = {k: p.shape for k, p in params.items()}
    reply = max_reply([tuple(p.shape) for p in params.values()])
    losses = []
    for step, (Xb, Yb) in enumerate(ref.batches, start=1):
        with torch.no_grad():  # the batch copied: in this process (--no-sandbox), the call could change it
            fwd = model.fused_forward(params, Xb.clone(), Yb.clone())
        arguments = {**fwd, "n": SHAPE.n}
        call_limits = limits()
        if call_limits is None:
            raise StepFailure(step, Failure("not_graded", "the submission's time budget ran out"))
        pending = submission.submit(MLP_BACKWARD.module, MLP_BACKWARD.function, arguments, True, call_limits, reply)
        grads = gradients(pending(), step, shapes)
        with torch.no_grad():
            update([params[k] for k in model.PARAMETERS], grads, LEARNING_RATE)
        losses.append(float(fwd["loss"]))
    return losses, params, list(ref.losses), ref.params


def check(
    submission: Any, tolerance: float, limits: Callable[[], Limits | None], seed: int
) -> tuple[Mapping[str, Sequence[Comparison]], list[tuple[str, Failure]]]:
    """Comparisons of the loss curve and the final parameters, or the failure that
    stopped the student's run."""
    label = f"{STEPS} SGD steps, {SHAPE}"
    try:
        losses, params, ref_losses, ref_params = lockstep(submission, limits, seed)
    except StepFailure as stop:
        return {"training": []}, [(f"{label}, step {stop.step}", stop.failure)]
    curve = compare(
        "loss curve",
        torch.tensor(losses),
        torch.tensor(ref_losses, dtype=torch.float64),
        tolerance=tolerance,
        trial=label,
    )
    if curve.problem == "not_close":
        step = next(i for i, (a, b) in enumerate(zip(losses, ref_losses)) if abs(a - b) > tolerance * abs(b))
        curve = replace(
            curve,
            message=(
                f"training with your gradients drifts from autograd's from step {step + 1}: loss {losses[-1]:.4f} "
                f"after {STEPS} steps where autograd reaches {ref_losses[-1]:.4f}"
            ),
        )
    comparisons = [curve]
    for k in model.PARAMETERS:
        scale = float(ref_params[k].abs().max())
        comparisons.append(compare(k, params[k], ref_params[k].double(), scale=scale, tolerance=tolerance, trial=label))
    return {"training": [_diagnosed(c) for c in comparisons]}, []


def _diagnosed(comparison: Comparison) -> Comparison:
    """A drift of the training follows from mlp_backward's gradients."""
    if comparison.passed:
        return comparison
    what = (
        comparison.message
        if comparison.name == "loss curve"
        else (f"after {STEPS} steps, {comparison.name} differs from autograd's run ({comparison.message})")
    )
    hint = "fix ex4.mlp_backward first: the training follows from its gradients"
    return replace(comparison, diagnosis=Diagnosis("propagated", what, hint, "training", comparison.trial))


def check_step(values: Mapping[str, Any]) -> dict[str, Any]:
    """The grader's answer to one training check: autograd's gradients at the step's
    parameters and batch against the student's; {"stop": why, "parameter": first wrong}
    when any is beyond the tolerance, else each parameter's figures."""
    step, tolerance = int(values["step"]), float(values["tolerance"])
    params = {k: torch.as_tensor(values["params"][k]) for k in PARAMETERS}
    grads = values["grads"]
    with torch.no_grad():
        fwd = model.fused_forward(params, values["Xb"], values["Yb"])
    reference = fused_reference({k: v.double() if v.is_floating_point() else v for k, v in fwd.items()}, None)
    found, wrong = {}, []
    for k in PARAMETERS:
        scale = MLP_BACKWARD.zero_scale[k](reference) if k in MLP_BACKWARD.zero_scale else 0.0
        c = compare(k, grads.get(k), reference[k], scale=scale, tolerance=tolerance, trial=f"step {step}")
        found[k] = {"max_abs_diff": c.max_abs_diff, "error": c.error}
        if not c.passed:
            wrong.append((k, c))
    if wrong:
        figures = ", ".join(
            f"{k} (relative error {c.error:.1e})" if c.error is not None else f"{k} ({c.message})" for k, c in wrong
        )
        why = f"at step {step}, your gradient of {figures} differs from autograd's beyond the tolerance {tolerance:.0e}"
        return {"stop": why, "parameter": wrong[0][0]}
    return {"parameters": found}
