"""The training check (ex4.training): SGD driven by the student's mlp_backward must follow
SGD driven by autograd, step for step. (The full training run is train.py.)

Both runs start from the same parameters and see the same batches, in lockstep: at each
step the student's call goes out, autograd's step is computed meanwhile, and both
updates are applied. The losses of every step and the final parameters are compared with
the one comparison of compare.py. The task is synthetic (the next token is a fixed
function of the last one, with noise) so that the check needs no data file and the loss
falls quickly; its start and its batches are drawn from the run's secret seed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import torch

from grader import model
from grader.calls import Call, Failure
from grader.catalogue import MLP_BACKWARD
from grader.compare import Comparison, compare
from grader.diagnosis import Diagnosis
from grader.model import Shape
from grader.sandbox.client import max_reply
from grader.sandbox.limits import Limits
from grader.train import update
from grader.trials import mixed

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


def lockstep(
    submission: Any, limits: Callable[[], Limits | None], seed: int
) -> tuple[list[float], Tensors, list[float], Tensors]:
    """Both runs: the student's losses and parameters, then autograd's. `limits` gives
    each call's limits, or None once the time budget has run out."""
    params = model.init_parameters(SHAPE, torch.Generator().manual_seed(mixed(seed, "lockstep start")))
    ref_params = {k: p.clone() for k, p in params.items()}
    shapes = {k: p.shape for k, p in params.items()}
    reply = max_reply([tuple(p.shape) for p in params.values()])
    losses, ref_losses = [], []
    for step, (Xb, Yb) in enumerate(batches(seed), start=1):
        with torch.no_grad():
            fwd = model.fused_forward(params, Xb, Yb)
        arguments = {**fwd, "n": SHAPE.n}
        call_limits = limits()
        if call_limits is None:
            raise StepFailure(step, Failure("not_graded", "the submission's time budget ran out"))
        pending = submission.submit(MLP_BACKWARD.module, MLP_BACKWARD.function, arguments, True, call_limits, reply)
        ref_loss, ref_grads = autograd_step(ref_params, Xb, Yb)
        grads = gradients(pending(), step, shapes)
        with torch.no_grad():
            update([params[k] for k in model.PARAMETERS], grads, LEARNING_RATE)
            update([ref_params[k] for k in model.PARAMETERS], ref_grads, LEARNING_RATE)
        losses.append(float(fwd["loss"]))
        ref_losses.append(ref_loss)
    return losses, params, ref_losses, ref_params


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
