"""The training check (ex4.training): SGD driven by the student's mlp_backward must follow
SGD driven by autograd, step for step.

Both runs start from the same parameters and see the same batches; the losses of every
step and the final parameters are compared with the one comparison of compare.py. The
task is synthetic (the next token is a fixed function of the last one, with noise) so
that the check needs no data file and the loss falls quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import torch

from grader import model
from grader.catalogue import MLP_BACKWARD, Values
from grader.compare import Comparison, compare
from grader.model import Shape
from grader.submission import Failure, Submission

SHAPE = Shape(n=32, V=27, E=10, B=3, H=64)
STEPS = 200
LEARNING_RATE = 0.1
SEED = 2147483647  # the lecture's generator seed
NOISE = 0.2  # the share of batch targets drawn at random instead

Backward = Callable[[Values], object]


def batches(shape: Shape = SHAPE, steps: int = STEPS, seed: int = SEED) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Contexts and next tokens of a learnable synthetic language, one batch per step."""
    g = torch.Generator().manual_seed(seed)
    successor = torch.randperm(shape.V, generator=g)
    out = []
    for _ in range(steps):
        Xb = torch.randint(0, shape.V, (shape.n, shape.B), generator=g)
        Yb = successor[Xb[:, -1]]
        noisy = torch.rand(shape.n, generator=g) < NOISE
        out.append((Xb, torch.where(noisy, torch.randint(0, shape.V, (shape.n,), generator=g), Yb)))
    return out


def run(backward: Backward, shape: Shape = SHAPE, steps: int = STEPS) -> tuple[list[float], dict[str, torch.Tensor]]:
    """SGD with gradients from `backward(fwd)`, under no_grad; the losses and the final
    parameters."""
    params = model.init_parameters(shape, torch.Generator().manual_seed(SEED))
    losses = []
    with torch.no_grad():
        for Xb, Yb in batches(shape, steps):
            fwd = model.fused_forward(params, Xb, Yb)
            grads = backward(Values({**fwd, "n": shape.n}))
            for k in model.PARAMETERS:
                params[k] -= LEARNING_RATE * grads[k]
            losses.append(float(fwd["loss"]))
    return losses, params


def autograd_backward(fwd: Values) -> dict[str, torch.Tensor]:
    """The reference: the gradients autograd gives for the same step."""
    params = {k: getattr(fwd, k).clone().requires_grad_() for k in model.PARAMETERS}
    with torch.enable_grad():
        loss = model.fused_forward(params, fwd.Xb, fwd.Yb)["loss"]
        return dict(zip(model.PARAMETERS, torch.autograd.grad(loss, list(params.values()))))


class StepFailure(Exception):
    def __init__(self, step: int, failure: Failure):
        self.step, self.failure = step, failure


def student_backward(submission: Submission) -> Backward:
    """The student's mlp_backward as a Backward, checked at every step: a failed call or
    a missing or misshapen gradient stops the run."""
    step = 0

    def backward(fwd: Values) -> dict[str, torch.Tensor]:
        nonlocal step
        step += 1
        arguments = dict(fwd._values)
        call = submission.call(MLP_BACKWARD.module, MLP_BACKWARD.function, arguments, as_fwd=True)
        if call.failure:
            raise StepFailure(step, call.failure)
        grads = call.value
        for k in model.PARAMETERS:
            got = grads.get(k) if isinstance(grads, dict) else None
            expected = arguments[k].shape
            if not isinstance(got, torch.Tensor) or got.shape != expected or not got.is_floating_point():
                problem = f"mlp_backward must return a dict with a float tensor of shape {tuple(expected)} for {k!r}"
                raise StepFailure(step, Failure("bad_return", problem))
        return grads

    return backward


def check(submission: Submission, tolerance: float) -> tuple[Mapping[str, Sequence[Comparison]], list[tuple[str, Failure]]]:
    """Comparisons of the loss curve and the final parameters, or the failure that
    stopped the student's run."""
    label = f"{STEPS} SGD steps, {SHAPE}"
    try:
        losses, params = run(student_backward(submission))
    except StepFailure as stop:
        return {"training": []}, [(f"{label}, step {stop.step}", stop.failure)]
    ref_losses, ref_params = run(autograd_backward)
    curve = compare("loss curve", torch.tensor(losses), torch.tensor(ref_losses, dtype=torch.float64),
                    tolerance=tolerance, trial=label)  # fmt: skip
    if curve.problem == "not_close":
        step = next(i for i, (a, b) in enumerate(zip(losses, ref_losses)) if abs(a - b) > tolerance * abs(b))
        curve = replace(curve, message=(
            f"training with your gradients drifts from autograd's from step {step + 1}: loss {losses[-1]:.4f} "
            f"after {STEPS} steps where autograd reaches {ref_losses[-1]:.4f}"
        ))  # fmt: skip
    comparisons = [curve]
    for k in model.PARAMETERS:
        scale = float(ref_params[k].abs().max())
        comparisons.append(compare(k, params[k], ref_params[k].double(), scale=scale, tolerance=tolerance, trial=label))
    return {"training": comparisons}, []
