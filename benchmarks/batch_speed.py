"""How fast a class is graded: 100 varied submissions in one batch, confined (with
--require-confinement: the batch refuses to run without it) and with --no-sandbox, one
after the other in one run, on the same trials (one seed).

The submissions come from the test corpora (tests/formulations/): the lecture-follower
folders as they are (a third of them as zip archives), and the reference solutions with
one file of correct/, wrong/ or heldout/ appended (the later `def` wins, as in
tests/test_formulations.py); then stubs and broken ones (a syntax error, an archive that
is not one). None hangs: --no-sandbox has no time limits, so a hang would run its whole
sleep there (a confined hang costs its 5 s wall-time limit). Each command is timed as a
whole, from a fresh process, with the CPU time of all its processes (the rate that CPU
time allows on idle cores is given too: on a shared machine the wall time says as much
about the neighbours); the two gradebooks must agree. Target: at least 150 per minute
confined on a 2-core machine.

    python benchmarks/batch_speed.py [--jobs 2] [--count 100] [--rounds 1]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.sandbox import processes  # noqa: E402
from tests.test_formulations import CORPUS, declared  # noqa: E402

TARGET = 150  # submissions a minute, confined, on 2 cores
# Of every 100 submissions: the whole lecture corpus, then appended formulations, then
# the ones that grading has to survive.
SPECIAL = {"stub": 2, "syntax": 1, "not_a_zip": 1}


def _kinds(count: int) -> Iterator[tuple[str, Path | None]]:
    """(kind, corpus entry) for `count` submissions, varied in the proportions above."""
    lecture = sorted(p for p in (CORPUS / "lecture").iterdir() if p.is_dir())
    files = {k: sorted((CORPUS / k).glob("*.py")) for k in ("correct", "wrong", "heldout")}
    special = [(kind, None) for kind, n in SPECIAL.items() for _ in range(n)]
    appended = [(k, p) for group in itertools.zip_longest(*files.values()) for k, p in zip(files, group) if p]
    chosen = [("lecture", p) for p in lecture] + special
    chosen += appended[: max(count - len(chosen), 0)]
    return iter(chosen[:count])


def build(root: Path, count: int) -> Counter[str]:
    """`count` submissions under `root`; how many of each kind."""
    made: Counter[str] = Counter()
    for i, (kind, entry) in enumerate(_kinds(count)):
        folder = root / f"student{i:03d}"
        made[kind] += 1
        if kind == "lecture":
            assert entry is not None
            shutil.copytree(entry, folder, ignore=shutil.ignore_patterns("*.json"))
        elif kind in ("correct", "wrong", "heldout"):
            assert entry is not None
            shutil.copytree(ROOT / "solutions", folder)
            module, _ = declared(entry)
            with open(folder / f"{module}.py", "a") as f:
                f.write("\n\n" + entry.read_text())
        elif kind == "stub":
            shutil.copytree(ROOT / "exercises", folder)
        elif kind == "syntax":
            shutil.copytree(ROOT / "solutions", folder)
            (folder / "ex1_atomic.py").write_text("def loss_backward(:\n")
        else:
            Path(f"{folder}.zip").write_text("not a zip")
        if folder.is_dir() and i % 3 == 0:  # some as archives, as Gradescope's download has them
            with zipfile.ZipFile(f"{folder}.zip", "w") as z:
                for f in folder.glob("*.py"):
                    z.write(f, f"repo/exercises/{f.name}")
            shutil.rmtree(folder)
    return made


def batch(root: Path, out: Path, jobs: int, seed: int, confined: bool) -> tuple[float, float]:
    """Seconds of one `backprop-ninja batch` command, from a fresh process, and the CPU
    seconds of all its processes (its zygotes and workers too: this process is their
    subreaper, and reaps them)."""
    shutil.rmtree(out, ignore_errors=True)
    how = ["--require-confinement"] if confined else ["--no-sandbox"]
    command = [sys.executable, "-m", "grader", "batch", str(root), "--out", str(out), "--jobs", str(jobs)]
    before = _children_cpu()
    start = time.perf_counter()
    subprocess.run([*command, "--seed", str(seed), *how], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # zygotes exit once their job has gone
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.05)
        except ChildProcessError:
            break
    return seconds, _children_cpu() - before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def scores(out: Path) -> dict[str, list[str]]:
    """Submission -> its scores and total, from the gradebook."""
    with open(out / "gradebook.csv", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    end = header.index("max_total") + 1
    return {row[0]: row[2:end] for row in rows[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each, alternating; the medians are given")
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "class"
        root.mkdir()
        made = build(root, args.count)
        print("submissions: " + ", ".join(f"{n} {kind}" for kind, n in made.items()))
        processes.prctl(processes.PR_SET_CHILD_SUBREAPER, 1)
        times: dict[bool, list[float]] = {True: [], False: []}
        cpu: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.rounds):
            for confined in (True, False):
                seconds, used = batch(root, Path(tmp) / f"out-{confined}", args.jobs, args.seed, confined)
                times[confined].append(seconds)
                cpu[confined].append(used)
        mine, theirs = scores(Path(tmp) / "out-True"), scores(Path(tmp) / "out-False")
    differ = sorted(name for name in mine if mine[name] != theirs.get(name))
    graded = len(mine)
    confined, loose = statistics.median(times[True]), statistics.median(times[False])
    rate = graded / confined * 60
    load = os.getloadavg()[0]
    for label, seconds, used in (("confined", confined, cpu[True]), ("--no-sandbox", loose, cpu[False])):
        each = statistics.median(used) / graded
        print(
            f"{label:>13}: {seconds:.1f} s for {graded} on {args.jobs} jobs: {graded / seconds * 60:.0f} per minute; "
            f"{each * 1e3:.0f} ms of CPU each (all processes), {args.jobs * 60 / each:.0f} per minute on "
            f"{args.jobs} idle cores at best"
        )
    print(f"confined / --no-sandbox = {confined / loose:.2f} (time); load average {load:.1f} at the end")
    print(f"gradebooks: {'the same scores' if not differ else 'scores differ for ' + ', '.join(differ)}")
    print(f"target: at least {TARGET} per minute confined -> {'met' if rate >= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
