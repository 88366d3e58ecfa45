"""How fast a notebook's check answers, once its first check has warmed the sandbox.

In one process, as a kernel does: imports `grader.check` (which starts the zygote),
defines a right function in a "cell", times its first check, then `--rounds` more checks
of it, and as many of a function that raises. Then times `backprop-ninja check ID` in a
fresh process, what a student would run without the notebook. Prints the medians and
the ratio of a warm check to the command. Target: a warm check within 0.3 s.

    python benchmarks/notebook_check.py [--rounds 10] [--id ex1.logits_backward]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RIGHT = {
    "ex1.logits_backward": "def logits_backward(dlogits, h, W2):\n    return dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)\n",
    "ex2.cross_entropy_backward": (
        "def cross_entropy_backward(logits, Yb):\n    d = logits.softmax(1)\n"
        "    d[range(logits.shape[0]), Yb] -= 1\n    return d / logits.shape[0]\n"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--id", default="ex1.logits_backward", choices=sorted(RIGHT))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cell = Path(tmp) / "cell.py"
        source = "from grader import check\n" + RIGHT[args.id] + "def raises(*args):\n    raise ValueError\n"
        cell.write_text(source)
        namespace: dict = {"__name__": "__main__"}
        start = time.perf_counter()
        exec(compile(source, str(cell), "exec"), namespace)
        imported = time.perf_counter() - start
        checks = {"first": [], "warm": [], "raising": []}
        right = f"check({args.id!r}, {args.id.split('.')[1]})"
        for kind, rounds, call in (
            ("first", 1, right),
            ("warm", args.rounds, right),
            ("raising", args.rounds, f"check({args.id!r}, raises)"),
        ):
            for _ in range(rounds):
                start = time.perf_counter()
                exec(f"result = {call}", namespace)
                checks[kind].append(time.perf_counter() - start)
        assert namespace["result"].items[0].status == "error"
        folder = Path(tmp) / "submission"
        folder.mkdir()
        module = {"ex1": "ex1_atomic", "ex2": "ex2_cross_entropy"}[args.id[:3]]
        (folder / f"{module}.py").write_text("import torch\n" + RIGHT[args.id])
        command = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "grader", "check", args.id, "--submission", str(folder)],
                check=True,
                stdout=subprocess.DEVNULL,
                cwd=ROOT,
            )
            command.append(time.perf_counter() - start)
    warm = statistics.median(checks["warm"])
    print(f"import grader.check: {imported:.2f} s (the zygote starts beside it)")
    print(f"first check of {args.id}: {checks['first'][0]:.3f} s")
    print(f"warm check: median {warm:.3f} s over {args.rounds} (max {max(checks['warm']):.3f} s)")
    print(f"check of a function that raises: median {statistics.median(checks['raising']):.3f} s")
    print(f"backprop-ninja check {args.id} in a fresh process: median {statistics.median(command):.2f} s over 3")
    print(
        f"warm check / command = {warm / statistics.median(command):.3f}; warm check {warm:.3f} s "
        f"(target: at most 0.3 s): {'met' if warm <= 0.3 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
