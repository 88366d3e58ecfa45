"""How fast the network trains with the manual backward pass, against loss.backward().

Side by side in one run, on the same batches and the same fused forward pass: a training
step as `backprop-ninja train` makes it (forward, the reference solution's mlp_backward,
SGD on all parameters in one call) against the same step with autograd (forward with
requires_grad, loss.backward(), the same update), in alternating blocks; then, with
--full, whole runs of the solutions through the CLI, in a sandbox worker and with
--no-sandbox, one after the other, each as a student runs it.
Targets: the manual step at least 1.5 times as fast; each full run within the time limit
(limits.training_limit), and the two within 1.3 times of each other.

    python benchmarks/training_speed.py [--blocks 5] [--steps 2000] [--full] [--full-steps 200000] [--threads 1]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "solutions"))

from ex4_train import mlp_backward  # noqa: E402

from grader.calls.limits import training_limit  # noqa: E402
from grader.exercises import model  # noqa: E402
from grader.exercises import training as train  # noqa: E402

RATIO = 1.3  # the most either way of the two full runs may take over the other


def manual_block(params, batches) -> float:
    ordered = [params[k] for k in model.PARAMETERS]
    start = time.perf_counter()
    with torch.no_grad():
        for Xb, Yb in batches:
            _, grads = train.forward_backward(params, Xb, Yb, mlp_backward)
            train.update(ordered, grads, 0.1)
    return (time.perf_counter() - start) / len(batches)


def autograd_block(params, batches) -> float:
    ordered = [params[k] for k in model.PARAMETERS]
    start = time.perf_counter()
    for Xb, Yb in batches:
        for p in ordered:
            p.grad = None
        model.fused_forward(params, Xb, Yb)["loss"].backward()
        with torch.no_grad():
            train.update(ordered, {k: params[k].grad for k in model.PARAMETERS}, 0.1)
    return (time.perf_counter() - start) / len(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--full", action="store_true", help="also time whole runs of the CLI, in the sandbox and with --no-sandbox"
    )
    parser.add_argument("--full-steps", type=int, default=200_000, help="steps of each whole run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = train.load(train.NAMES)
    g = torch.Generator().manual_seed(1)
    X, Y = data.train
    ix = torch.randint(0, len(X), (args.steps, 32), generator=g)
    batches = list(zip(X[ix], Y[ix]))
    shape = model.Shape(n=32, V=27, E=10, B=3, H=200)
    manual = {k: p.clone() for k, p in model.init_parameters(shape, torch.Generator().manual_seed(2)).items()}
    auto = {k: p.clone().requires_grad_() for k, p in manual.items()}
    manual_block(manual, batches[:200]), autograd_block(auto, batches[:200])  # warm up
    times = {"manual": [], "autograd": []}
    for _ in range(args.blocks):
        times["manual"].append(manual_block(manual, batches))
        times["autograd"].append(autograd_block(auto, batches))
    m, a = statistics.median(times["manual"]), statistics.median(times["autograd"])
    print(
        f"threads {args.threads}: manual step {m * 1e6:.0f} us, loss.backward() step {a * 1e6:.0f} us "
        f"(median of {args.blocks} blocks of {args.steps} steps)"
    )
    print(f"speed-up {a / m:.2f} (target: at least 1.5); 200,000 manual steps: {m * 2e5:.0f} s of steps")
    if args.full:
        full(args.full_steps)


def full(steps: int) -> None:
    """Whole runs of the solutions through the CLI, confined and not, and their ratio."""
    seconds = {}
    for name, flags in (("sandbox", []), ("--no-sandbox", ["--no-sandbox"])):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "grader", "train", "--submission", str(ROOT / "solutions"), "--steps", str(steps)]
            + ["--data", str(train.NAMES), *flags],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds[name] = time.perf_counter() - start
        steps_line = re.search(r"^\d+ steps in .*$", done.stdout, re.MULTILINE)
        print(
            f"{name:>12}: {seconds[name]:.1f} s for {steps:,} steps, the command as a whole "
            f"({steps_line[0] if steps_line else 'no figures: ' + done.stdout[-300:]}; exit {done.returncode})"
        )
    ratio = seconds["sandbox"] / seconds["--no-sandbox"]
    print(
        f"sandbox / --no-sandbox = {ratio:.2f} (target: from {1 / RATIO:.2f} to {RATIO:g}); "
        f"the time limit: {training_limit(steps):g} s"
    )


if __name__ == "__main__":
    main()
