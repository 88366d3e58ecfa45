"""How much grading a whole submission costs: against the floor of importing torch, and
with student code isolated in worker processes against without.

Runs, in turn and in fresh processes, `python -c "import torch"`,
`python -m grader grade --submission solutions` (isolated, the default) and the same
with --no-sandbox, and prints the median wall time of each and two ratios. Targets:
grading costs at most 2 torch imports, and isolation at most 1.3 times no isolation.

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
        grade = [
            sys.executable,
            "-m",
            "grader",
            "grade",
            "--submission",
            args.submission,
            "--format",
            "json",
            "--output",
            str(Path(tmp) / "report.json"),
        ]
        commands = {
            "import torch": [sys.executable, "-c", "import torch"],
            "grade": grade,
            "--no-sandbox": [*grade, "--no-sandbox"],
        }
        wall_time(commands["import torch"])  # warm the file cache
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(wall_time(command))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:>13}: median {median:.2f} s over {args.rounds} runs (min {min(times[name]):.2f} s)")
    print(f"grade / import torch = {medians['grade'] / medians['import torch']:.2f} (target: at most 2)")
    print(f"grade / grade --no-sandbox = {medians['grade'] / medians['--no-sandbox']:.2f} (target: at most 1.3)")


if __name__ == "__main__":
    main()
