"""Gradescope's run of an autograder zip, simulated on this machine: the zip unpacked
into an /autograder tree of its own (source/, submission/, results/), its run_autograder
run there by bash as Gradescope runs it, with the zip's own grader, and results.json read
back. What an instructor checks before uploading the zip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_SECONDS = 1800  # longer than any submission's budget and training run together


class SimulationError(ValueError):
    """A submission that cannot be handed to the simulated autograder."""


@dataclass(frozen=True)
class Simulated:
    """What Gradescope would have: the script's output (the instructor's log) and results.json."""

    log: str
    results: dict[str, Any]

    @property
    def score(self) -> float:
        return float(self.results.get("score", 0))

    @property
    def max_score(self) -> float:
        return sum(float(t.get("max_score", 0)) for t in self.results.get("tests", []))

    def summary(self) -> str:
        """results.json as Gradescope shows it: the score, then a line per test."""
        tests = self.results.get("tests", [])
        lines = [f"Gradescope's results.json: {self.score:g}/{self.max_score:g} points, {len(tests)} tests"]
        width = max((len(str(t.get("name", ""))) for t in tests), default=0)
        for t in tests:
            lines.append(
                f"  {t.get('name', ''):<{width}}  {t.get('score', 0):g}/{t.get('max_score', 0):g}"
                f"  {t.get('visibility', 'visible')}"
            )
        if self.results.get("output"):
            lines.append(f"output: {self.results['output']}")
        return "\n".join(lines) + "\n"


def simulate(zip_path: Path, submission: Path) -> Simulated:
    """Run the autograder zip on `submission` (a folder, as Gradescope unpacks an upload,
    or one file, such as a notebook) in a temporary /autograder tree."""
    if not submission.exists():
        raise SimulationError(f"no folder or file {submission}: give what a student would upload")
    with tempfile.TemporaryDirectory(prefix="backprop-ninja-gradescope-") as scratch:
        root = Path(scratch)
        root.chmod(0o755)  # as /autograder: the uid that runs student code reads the grader there
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(root / "source")
        if submission.is_dir():
            shutil.copytree(submission, root / "submission", symlinks=True)
        else:
            (root / "submission").mkdir()
            shutil.copy(submission, root / "submission" / submission.name)
        (root / "results").mkdir()
        # The zip's own grader, as setup.sh installs it on Gradescope, run by this Python.
        grader = root / "backprop-ninja"
        grader.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m grader "$@"\n', encoding="utf-8")
        grader.chmod(0o755)
        path = os.pathsep.join(filter(None, [str(root / "source"), os.environ.get("PYTHONPATH", "")]))
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "BACKPROP_NINJA": str(grader), "PYTHONPATH": path}
        done = subprocess.run(
            ["bash", str(root / "source" / "run_autograder")],
            env=env,
            cwd=root,  # python -m puts the folder it starts in on the path: the grader's, not the caller's
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            check=False,
        )
        results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    return Simulated(done.stdout + done.stderr, results)
