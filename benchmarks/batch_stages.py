"""Where a batch job's time goes: submissions of batch_speed.py's class graded one after
another in one process, as a batch job grades them, with the wall and CPU time of each
stage, and the CPU time of the job's workers and zygote.

    python benchmarks/batch_stages.py [--count 25] [--no-sandbox]

The stages are timed by wrapping the functions that do them (nested stages are
indented); the first submission (trial data, tracing, lazy imports) is left out.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import batch_speed  # noqa: E402
import torch  # noqa: E402

from grader.exercises import catalogue  # noqa: E402
from grader.exercises.rubric import load_rubric  # noqa: E402
from grader.frontends import batch  # noqa: E402
from grader.grading import grader, lockstep  # noqa: E402
from grader.sandbox import client, processes, zygote  # noqa: E402

WALL: Counter[str] = Counter()
CPU: Counter[str] = Counter()
CALLS: Counter[str] = Counter()


def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            WALL[label] += time.perf_counter() - wall
            CPU[label] += time.process_time() - cpu
            CALLS[label] += 1

    return inner


def instrument() -> list[float]:
    """Wrap each stage; the list that the workers' CPU seconds are added to."""
    grader.open_runner = timed("worker start (spawn, confine, seal; until ready)", grader.open_runner)
    batch.unpack = timed("unpack an archive", batch.unpack)
    grader.run_trials = timed("exercises: trials (calls, references)", grader.run_trials)
    grader.check = timed("exercises: compare, diagnose", grader.check)
    grader.score_exercise = timed("exercises: scoring", grader.score_exercise)
    grader.lockstep.check = timed("training check (200 steps in lockstep)", lockstep.check)
    lockstep.autograd_step = timed("  autograd's training steps", lockstep.autograd_step)
    for exercise in catalogue.EXERCISES:
        object.__setattr__(exercise, "reference", timed("  autograd's references", exercise.reference))
    batch._write_report = timed("report (JSON, written)", batch._write_report)
    grader.Grader.close = timed("close (stop the worker, kill its processes)", grader.Grader.close)
    client.Sandbox._send = timed("  requests sent", client.Sandbox._send)
    client.Sandbox._receive = timed("  replies waited for and read", client.Sandbox._receive)
    batch.grade_one = timed("a submission, in all", batch.grade_one)
    workers = [0.0]
    wait = zygote.Zygote.wait

    def counted(self: zygote.Zygote, pid: int) -> tuple[int, float]:
        status, cpu = wait(self, pid)
        workers[0] += cpu
        return status, cpu

    zygote.Zygote.wait = counted  # type: ignore[method-assign]
    return workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=25)
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args()
    sandbox = not args.no_sandbox
    torch.set_num_threads(1)
    workers = instrument()
    tmp = Path(tempfile.mkdtemp(prefix="batch-stages-"))
    (tmp / "class").mkdir()
    batch_speed.build(tmp / "class", 100)
    found = batch.discover(tmp / "class")
    chosen = found[:: max(len(found) // args.count, 1)][: args.count]
    job = batch.Batch(tmp / "out", load_rubric(), sandbox, 20261207, False)
    (tmp / "out" / batch.REPORTS).mkdir(parents=True)
    zygote_cpu = lambda: (processes.cpu_seconds(zygote.zygote().pid) or 0.0) if sandbox else 0.0  # noqa: E731
    batch.grade_one(chosen[0], "first", job)
    for counter in (WALL, CPU, CALLS):
        counter.clear()
    workers[0] = 0.0
    zygote_start, cpu_start, start = zygote_cpu(), time.process_time(), time.perf_counter()
    for i, path in enumerate(chosen[1:]):
        batch.grade_one(path, f"s{i}", job)
    n = len(chosen) - 1
    wall, cpu, of_zygote = time.perf_counter() - start, time.process_time() - cpu_start, zygote_cpu() - zygote_start
    print(
        f"{n} submissions, {'confined' if sandbox else '--no-sandbox'}, load average {os.getloadavg()[0]:.1f}: "
        f"{wall / n * 1e3:.0f} ms each; CPU each: grader {cpu / n * 1e3:.0f} ms, workers {workers[0] / n * 1e3:.0f} "
        f"ms, zygote {of_zygote / n * 1e3:.0f} ms, in all {(cpu + workers[0] + of_zygote) / n * 1e3:.0f} ms"
    )
    print(f"{'stage, per submission':50} {'wall ms':>8} {'CPU ms':>8} {'calls':>6}")
    for label in sorted(WALL, key=lambda label: -WALL[label]):
        print(f"{label:50} {WALL[label] / n * 1e3:8.1f} {CPU[label] / n * 1e3:8.1f} {CALLS[label] / n:6.1f}")


if __name__ == "__main__":
    main()
