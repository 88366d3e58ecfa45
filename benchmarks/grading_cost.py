"""How much grading a whole submission costs, against the floor of importing torch.

Runs, alternately and in fresh processes, `python -c "import torch"` and
`python -m grader grade --submission solutions`, and prints the median wall time of
each and their ratio. Target: the ratio is at most 2.

    python benchmarks/grading_cost.py [--rounds 7] [--submission solutions]
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


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--submission", default=str(ROOT / "solutions"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "import torch": [sys.executable, "-c", "import torch"],
            "grade": [sys.executable, "-m", "grader", "grade", "--submission", args.submission,
                      "--format", "json", "--output", str(Path(tmp) / "report.json")],  # fmt: skip
        }
        wall_time(commands["import torch"])  # warm the file cache
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(wall_time(command))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:>13}: median {median:.2f} s over {args.rounds} runs (min {min(times[name]):.2f} s)")
    ratio = medians["grade"] / medians["import torch"]
    print(f"grade / import torch = {ratio:.2f} (target: at most 2)")


if __name__ == "__main__":
    main()
