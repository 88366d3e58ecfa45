"""Exercise 4 for real: train the lecture's network with nothing but a student's
mlp_backward, as the lecture does: 200,000 SGD steps of batch 32, learning rate 0.1 then
0.01 from half-way, batchnorm calibrated on the whole training set at the end, the loss
on the training and validation splits, and names sampled from the model.

`run` is the loop; it runs in a sandbox worker (sandbox.Sandbox.train) or, with
--no-sandbox, in the grader's process. It reports progress through a callback and
returns plain data: numbers, lists, strings. It keeps to its time limit itself, between
two steps, and stops as soon as its pace says it would not keep to it (the sandbox stops
a worker only limits.GRACE seconds later, for a step that never ends); it measures what
its steps spend in mlp_backward, for the report to say why a run is slow. Its comparisons with
autograd (--check-every) are made where autograd may run, never in a worker that loaded
a submission: the run hands each step's parameters, batch and gradients to `check`,
which the grader answers with grading.lockstep.check_step.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F

from grader.calls.limits import GRACE, training_limit
from grader.exercises import model, seeds
from grader.exercises.catalogue import Values
from grader.exercises.model import EPS, PARAMETERS, Shape

# The project's data set: in the package where the build puts it (a wheel, a released
# repository), else in data/ at the top of this repository (pyproject.toml maps the one onto the other).
_PACKAGE = Path(__file__).resolve().parent.parent
NAMES = next(
    (p for p in (_PACKAGE / "data" / "names.txt", _PACKAGE.parent / "data" / "names.txt") if p.is_file()),
    _PACKAGE / "data" / "names.txt",
)
SEED = seeds.LECTURE
SPLIT_SEED = 42  # random.seed(42) before shuffling the words, as in the lecture
END = "."  # the token that starts and ends every name
EARLY = 10.0  # seconds of steps whose pace foretells the run's duration
GROWTH = 8  # the batch is this many times larger when the pace measure times mlp_backward again
CALLS = 3  # calls of mlp_backward per batch size in that measure, the fastest counted
PROBE = 1.0  # seconds that measure may take, foretold from the run's own pace


@dataclass(frozen=True)
class Config:
    """One training run, the lecture's by default."""

    steps: int = 200_000
    batch: int = 32
    E: int = 10  # embedding size
    B: int = 3  # block size
    H: int = 200  # hidden size
    lr: float = 0.1
    late_lr: float = 0.01  # from half-way on
    seed: int = SEED
    check_every: int = 0  # compare with autograd every this many steps (0: never)
    tolerance: float = 1e-4  # for those comparisons
    every: int = 1000  # steps per progress report and per point of the loss curve
    samples: int = 20
    timeout: float = 0.0  # seconds the run may take (0: training_limit(steps), calls/limits.py)

    @property
    def limit(self) -> float:
        """The seconds the run may take."""
        return self.timeout or training_limit(self.steps)


class DataError(ValueError):
    """A names file that cannot be trained on, with what to do."""


@dataclass(frozen=True)
class Data:
    """The lecture's dataset: contexts of B characters and the next one, 80/10/10."""

    itos: tuple[str, ...]  # token -> character; token 0 is END
    train: tuple[torch.Tensor, torch.Tensor]
    dev: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]


def read_words(path: Path | str) -> list[str]:
    """The names of a names file, one per line, checked for what training needs."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"no names file {path}: give a file of one name per line with --data PATH (by default the "
            "package's own names.txt)"
        )
    words = [w.strip() for w in path.read_text(encoding="utf-8", errors="replace").splitlines() if w.strip()]
    if len(words) < 10:
        raise DataError(f"{path} holds {len(words)} names: training needs thousands, one per line")
    if any(END in w for w in words):
        raise DataError(f"{path} uses {END!r} in a name, which is the start and end token: remove it")
    return words


def load(path: Path | str, block: int = 3) -> Data:
    """The words of a names file, shuffled and split as in the lecture."""
    return dataset(read_words(path), block)


def dataset(words: list[str], block: int = 3) -> Data:
    """Contexts of `block` characters and the next one, from these words shuffled and
    split 80/10/10 as in the lecture."""
    words = list(words)
    chars = sorted(set("".join(words)))
    stoi = {c: i + 1 for i, c in enumerate(chars)}
    stoi[END] = 0
    random.seed(SPLIT_SEED)
    random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))

    def build(part: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        X, Y = [], []
        for word in part:
            context = [0] * block
            for ch in word + END:
                X.append(context)
                Y.append(stoi[ch])
                context = context[1:] + [stoi[ch]]
        return torch.tensor(X, dtype=torch.int64).view(-1, block), torch.tensor(Y, dtype=torch.int64)

    itos = (END, *chars)
    return Data(itos, build(words[:n1]), build(words[n1:n2]), build(words[n2:]))


Progress = Callable[[dict[str, Any]], None]


# Why a run stopped early, as its report names it.
StopKind = Literal["wrong_gradient", "not_implemented", "exception", "uses_autograd", "bad_return", "time_limit"]


class Stop(Exception):
    """Training stopped before its end: the step, the why, and the parameter if one."""

    def __init__(self, step: int, message: str, parameter: str = "", kind: StopKind = "wrong_gradient"):
        super().__init__(message)
        self.step, self.message, self.parameter, self.kind = step, message, parameter, kind


Check = Callable[[dict[str, Any]], dict[str, Any]]


def run(
    backward: Callable[[Values], Any],
    data: Data,
    config: Config,
    progress: Progress | None = None,
    describe: Callable[[BaseException], str] = lambda e: f"{type(e).__name__}: {e}",
    check: Check | None = None,
) -> dict[str, Any]:
    """Train with `backward` (a student's mlp_backward) and return the figures: the loss
    curve, the train and validation losses after calibrating batchnorm, the sampled
    names, the autograd checks, and why it stopped, if it did. It stops at its time limit,
    or sooner when the pace of its first EARLY seconds says it would pass it."""
    start = time.perf_counter()
    limit = config.limit
    shape = Shape(n=config.batch, V=len(data.itos), E=config.E, B=config.B, H=config.H)
    g = torch.Generator().manual_seed(config.seed)
    params = model.init_parameters(shape, g)
    ordered = [params[k] for k in PARAMETERS]
    Xtr, Ytr = data.train
    losses: list[torch.Tensor] = []
    checks: list[dict[str, Any]] = []
    stopped = None
    in_backward = 0.0  # seconds the steps spent in mlp_backward
    try:
        for first in range(0, config.steps, config.every):
            count = min(config.every, config.steps - first)
            ix = torch.randint(0, len(Xtr), (count, config.batch), generator=g)
            Xs, Ys = Xtr[ix], Ytr[ix]
            for j in range(count):
                step = first + j
                nodes = sequence_nr()
                fwd = model.fused_forward(params, Xs[j], Ys[j])
                tick = time.perf_counter()
                try:
                    grads = backward(Values({**fwd, "n": config.batch}))
                except NotImplementedError:
                    raise Stop(step, "mlp_backward is not implemented yet", kind="not_implemented") from None
                except Exception as error:  # noqa: BLE001 - the student's code stops the run, not the grader
                    used = type(error).__name__ in AUTOGRAD_ERRORS
                    why = str(error) if used else f"mlp_backward raised {describe(error)}"
                    raise Stop(step, why, kind="uses_autograd" if used else "exception") from None
                in_backward += time.perf_counter() - tick
                if sequence_nr() != nodes:  # said at once; the seal's own count is the grader's to read
                    raise Stop(step, "mlp_backward uses autograd (it records an autograd graph)", kind="uses_autograd")
                if step == 0:
                    _check_shapes(grads, params)
                if check is not None and config.check_every and step % config.check_every == 0:
                    checks.append(_checked(check, step, params, Xs[j], Ys[j], grads, config.tolerance))
                update(ordered, grads, config.lr if step < config.steps // 2 else config.late_lr)
                losses.append(fwd["loss"])
                late = over_time(time.perf_counter() - start, step + 1, config.steps, limit)
                if late:
                    raise Stop(step + 1, late, kind="time_limit")
            recent = float(torch.stack(losses[-count:]).mean())
            if not math.isfinite(recent):
                raise Stop(first + count, "the loss became inf or nan: a gradient is wrong or far too large")
            if progress:
                progress(
                    {
                        "step": first + count,
                        "steps": config.steps,
                        "loss": recent,
                        "seconds": time.perf_counter() - start,
                    }
                )
    except Stop as stop:
        stopped = {"step": stop.step, "message": stop.message, "parameter": stop.parameter, "kind": stop.kind}
    trained = time.perf_counter() - start
    curve = _curve(losses, config.every)
    result: dict[str, Any] = {
        "config": asdict(config),
        "steps_done": len(losses),
        "curve": curve,  # log10 of the loss, averaged per `every` steps
        "checks": checks,
        "stopped": stopped,
        "seconds": trained,
        "loss": float(torch.stack(losses[-config.every :]).mean()) if losses else None,  # the running loss
    }
    if losses and (stopped is None or stopped["kind"] == "time_limit"):
        result["pace"] = pace(trained, len(losses), in_backward, backward, params, data.train, config.batch)
    if stopped is None:
        with torch.no_grad():
            bnmean, bnvar = calibrate(params, Xtr)
            result["train_loss"] = split_loss(params, bnmean, bnvar, *data.train)
            result["val_loss"] = split_loss(params, bnmean, bnvar, *data.dev)
            result["samples"] = sample(params, bnmean, bnvar, data.itos, config)
    return result


def over_time(seconds: float, done: int, steps: int, limit: float) -> str:
    """Why a run that has made `done` of its `steps` steps in `seconds` must stop now, or
    "": it reached its limit, or its pace, once EARLY seconds have shown it, would take it
    beyond."""
    if seconds >= limit:
        return f"it reached its time limit, {limit:g} s"
    if seconds >= EARLY and seconds * steps > limit * done:
        projected = duration(seconds * steps / done)
        return f"at this pace the whole run would take {projected}, beyond its time limit of {limit:g} s"
    return ""


def pace(
    seconds: float,
    done: int,
    in_backward: float,
    backward: Callable[[Values], Any],
    params: dict[str, torch.Tensor],
    split: tuple[torch.Tensor, torch.Tensor],
    batch: int,
) -> dict[str, float]:
    """What a run's steps took, for the report to say why a run was slow: seconds a step,
    seconds of it in mlp_backward, and how much longer a call of mlp_backward takes on a
    batch GROWTH times larger (`growth`; 0 when not measured). A Python loop over the batch
    takes about GROWTH times as long; tensor operations at these sizes far less."""
    figures = {"step": seconds / done, "backward": in_backward / done, "growth": 0.0}
    if figures["backward"] * (1 + GROWTH) * CALLS < PROBE:
        X, Y = split
        small, large = (_call_time(backward, params, X[:n], Y[:n]) for n in (batch, batch * GROWTH))
        if small > 0 and large > 0:
            figures["growth"] = large / small
    return figures


def _call_time(
    backward: Callable[[Values], Any], params: dict[str, torch.Tensor], Xb: torch.Tensor, Yb: torch.Tensor
) -> float:
    """The fastest of CALLS calls of `backward` on this batch, in seconds; 0 if it raised."""
    fwd = Values({**model.fused_forward({k: p.clone() for k, p in params.items()}, Xb, Yb), "n": len(Xb)})
    best = math.inf
    for _ in range(CALLS):
        tick = time.perf_counter()
        try:
            backward(fwd)
        except Exception:  # noqa: BLE001 - a function that takes no other batch size: not measured
            return 0.0
        best = min(best, time.perf_counter() - tick)
    return best


def cut_short(config: Config, report: Mapping[str, float], seconds: float) -> dict[str, Any]:
    """The figures of a run stopped from outside, GRACE seconds past its limit (a call of
    mlp_backward that did not return), from the last progress report it made."""
    step = int(report["step"])
    why = (
        f"a call of mlp_backward was still running {GRACE:g} s after the run's time limit, {config.limit:g} s: "
        "an endless loop, or a very slow one?"
    )
    return {
        "config": asdict(config),
        "steps_done": step,
        "curve": [],
        "checks": [],
        "stopped": {"step": step, "message": why, "parameter": "", "kind": "time_limit"},
        "seconds": seconds,
        "loss": report.get("loss"),
    }


def duration(seconds: float) -> str:
    """A duration as a student reads it: "40 s", "about 22 min"."""
    return f"{seconds:.0f} s" if seconds < 120 else f"about {seconds / 60:.0f} min"


sequence_nr = torch._C._autograd._get_sequence_nr  # autograd's node counter, which only counts up

# How a call that used autograd fails, where the run can tell (the grader's own process,
# and a gradient operator refused by the seal): the run stops, as uses_autograd.
AUTOGRAD_ERRORS = ("AutogradUsed", "AutogradUnavailable", "Sealed")


def _checked(
    check: Check,
    step: int,
    params: Mapping[str, torch.Tensor],
    Xb: torch.Tensor,
    Yb: torch.Tensor,
    grads: Mapping[str, torch.Tensor],
    tolerance: float,
) -> dict[str, Any]:
    """One comparison with autograd, made by `check`; a Stop that names the wrong
    parameter when it says so."""
    values = {
        "step": step,
        "tolerance": tolerance,
        "Xb": Xb,
        "Yb": Yb,
        "params": {k: params[k] for k in PARAMETERS},
        "grads": {k: grads[k] for k in PARAMETERS},
    }
    answer = check(values)
    if answer.get("stop"):
        raise Stop(step, str(answer["stop"])[:2000], str(answer.get("parameter", ""))[:40])
    return {"step": step, "parameters": answer.get("parameters", {})}


def forward_backward(
    params: dict[str, torch.Tensor], Xb: torch.Tensor, Yb: torch.Tensor, backward: Callable[[Values], Any]
) -> tuple[dict[str, torch.Tensor], Any]:
    """One step's forward pass, and the gradients `backward` makes of it."""
    fwd = model.fused_forward(params, Xb, Yb)
    return fwd, backward(Values({**fwd, "n": len(Xb)}))


def update(ordered: list[torch.Tensor], grads: Mapping[str, torch.Tensor], lr: float) -> None:
    """Plain SGD, all parameters in one call."""
    torch._foreach_add_(ordered, [grads[k] for k in PARAMETERS], alpha=-lr)


def _check_shapes(grads: Any, params: Mapping[str, torch.Tensor]) -> None:
    bad = model.bad_gradient(grads, {k: p.shape for k, p in params.items()})
    if bad is not None:
        raise Stop(0, bad[1], bad[0], "bad_return")


def _curve(losses: list[torch.Tensor], every: int) -> list[float]:
    if not losses:
        return []
    logs = torch.stack(losses).log10()
    return [float(part.mean()) for part in logs.split(every)]


def calibrate(params: Mapping[str, torch.Tensor], X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The batchnorm mean and (Bessel-corrected) variance over the whole training set."""
    hprebn = torch.addmm(params["b1"], params["C"][X].view(len(X), -1), params["W1"])
    return hprebn.mean(0, keepdim=True), hprebn.var(0, keepdim=True, unbiased=True)


def _logits(
    params: Mapping[str, torch.Tensor], bnmean: torch.Tensor, bnvar: torch.Tensor, X: torch.Tensor
) -> torch.Tensor:
    hprebn = torch.addmm(params["b1"], params["C"][X].view(len(X), -1), params["W1"])
    hpreact = params["bngain"] * (hprebn - bnmean) * (bnvar + EPS) ** -0.5 + params["bnbias"]
    return torch.addmm(params["b2"], torch.tanh(hpreact), params["W2"])


def split_loss(
    params: Mapping[str, torch.Tensor], bnmean: torch.Tensor, bnvar: torch.Tensor, X: torch.Tensor, Y: torch.Tensor
) -> float:
    return float(F.cross_entropy(_logits(params, bnmean, bnvar, X), Y))


def sample(
    params: Mapping[str, torch.Tensor], bnmean: torch.Tensor, bnvar: torch.Tensor, itos: tuple[str, ...], config: Config
) -> list[str]:
    """Names drawn from the trained model, with the lecture's sampling seed."""
    g = torch.Generator().manual_seed(config.seed + 10)
    names = []
    for _ in range(config.samples):
        out: list[str] = []
        context = [0] * config.B
        while len(out) < 50:
            probs = F.softmax(_logits(params, bnmean, bnvar, torch.tensor([context])), dim=1)
            ix = int(torch.multinomial(probs, num_samples=1, generator=g))
            context = context[1:] + [ix]
            if ix == 0:
                break
            out.append(itos[ix])
        names.append("".join(out))
    return names
