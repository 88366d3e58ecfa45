"""How fast a class is graded: 100 varied submissions in one batch, with the confinement
on (--require-confinement: the batch refuses to run without it).

Builds 100 submissions (55 right, 30 with a mistake from the corpus, 5 that hang until
their time limit, 5 stubs, 5 broken: a syntax error or an archive that is not one), then
runs `python -m grader batch` on them in a fresh process, and prints the wall time and
submissions per minute. Target: 100 submissions in at most 60 s on a 2-core machine.

    python benchmarks/batch_speed.py [--jobs 2] [--count 100]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_formulations import CORPUS, declared  # noqa: E402

HANG = "import time\ndef cross_entropy_backward(logits, Yb):\n    time.sleep(600)\n"


def build(root: Path, count: int) -> None:
    """`count` submissions in the proportions above."""
    mistakes = sorted((CORPUS / "wrong").glob("*.py"))
    for i in range(count):
        folder = root / f"student{i:03d}"
        kind = i % 20
        if kind < 11:  # right: some as folders, some as zip archives
            shutil.copytree(ROOT / "solutions", folder)
            if i % 3 == 0:
                with zipfile.ZipFile(f"{folder}.zip", "w") as z:
                    for f in folder.glob("*.py"):
                        z.write(f, f"repo/exercises/{f.name}")
                shutil.rmtree(folder)
        elif kind < 17:  # a mistake
            shutil.copytree(ROOT / "solutions", folder)
            path = mistakes[i % len(mistakes)]
            module, _ = declared(path)
            with open(folder / f"{module}.py", "a") as f:
                f.write("\n\n" + path.read_text())
        elif kind == 17:  # hangs until its time limit
            shutil.copytree(ROOT / "solutions", folder)
            with open(folder / "ex2_cross_entropy.py", "a") as f:
                f.write("\n\n" + HANG)
        elif kind == 18:
            shutil.copytree(ROOT / "exercises", folder)
        elif i % 2:
            shutil.copytree(ROOT / "solutions", folder)
            (folder / "ex1_atomic.py").write_text("def loss_backward(:\n")
        else:
            Path(f"{folder}.zip").write_text("not a zip")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, out = Path(tmp) / "class", Path(tmp) / "out"
        root.mkdir()
        build(root, args.count)
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                "batch",
                str(root),
                "--out",
                str(out),
                "--jobs",
                str(args.jobs),
                "--require-confinement",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
        reports = sorted((out / "reports").glob("*.json"))
        graded = len(reports)
        layers = json.loads(reports[0].read_text())["confinement"]
    print("confinement: " + ", ".join(f"{layer['name']} {'on' if layer['active'] else 'off'}" for layer in layers))
    print(f"{graded} submissions graded in {seconds:.1f} s on {args.jobs} jobs: {graded / seconds * 60:.0f} per minute")
    print(f"target: {args.count} in at most 60 s -> {'met' if seconds <= 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
