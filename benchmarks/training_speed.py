"""How fast the network trains with the manual backward pass, against loss.backward().

Side by side in one run, on the same batches and the same fused forward pass: a training
step as `backprop-ninja train` makes it (forward, the reference solution's mlp_backward,
SGD on all parameters in one call) against the same step with autograd (forward with
requires_grad, loss.backward(), the same update), in alternating blocks; then, with
--full, a whole 200,000-step run through the CLI, sandbox included.
Targets: the manual step at least 1.5 times as fast; the full run in at most 70 s.

    python benchmarks/training_speed.py [--blocks 5] [--steps 2000] [--full] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "solutions"))

from ex4_train import mlp_backward  # noqa: E402

from grader.exercises import model  # noqa: E402
from grader.exercises import training as train
from grader.sandbox.guard import AutogradGuard  # noqa: E402


def manual_block(params, batches) -> float:
    ordered = [params[k] for k in model.PARAMETERS]
    start = time.perf_counter()
    with torch.no_grad(), AutogradGuard():
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
    parser.add_argument("--full", action="store_true", help="also time a whole 200,000-step run of the CLI")
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
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                "train",
                "--submission",
                str(ROOT / "solutions"),
                "--data",
                str(train.NAMES),
            ],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(
            f"a full 200,000-step run of `backprop-ninja train`: {time.perf_counter() - start:.1f} s (target: at most 70 s)"
        )


if __name__ == "__main__":
    main()
