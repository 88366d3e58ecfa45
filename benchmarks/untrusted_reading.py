"""What reading the largest notebook and the largest archive a submission may be costs
the grader: seconds, and memory beyond the grader's own.

Builds, in a temporary folder, a notebook at the size cap (its code at the code cap,
outputs filling the rest) and a .tar.gz at the archive cap that unpacks to the unpacked
cap; then, in a fresh process each, imports the grader (its own memory), reads the
notebook (`hand_in`) or unpacks the archive (`unpack`), and prints the seconds and the
peak memory of the grader process and of the child that parsed. Target: under 1 s and
256 MB beyond the grader's own, each.

    python benchmarks/untrusted_reading.py
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.handins.cells import MAX_CODE, MAX_NOTEBOOK  # noqa: E402
from grader.handins.submissions import MAX_ARCHIVE, MAX_UNPACKED  # noqa: E402

MEASURE = """
import resource, sys, time
import grader.handins.submissions as s
from pathlib import Path
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if sys.argv[1] == "notebook":
    handed = s.hand_in(Path(sys.argv[2]))
    handed.close()
else:
    s.unpack(Path(sys.argv[2]), Path(sys.argv[3]))
seconds = time.perf_counter() - start
grader = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(seconds, own, grader, child)
"""


def notebook(path: Path) -> None:
    """Code cells up to the code cap, and an output that fills the file to its cap."""
    line = "x = 1  # " + "a" * 80 + "\n"
    cell = line * 200
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [], "source": cell}]
    count = MAX_CODE // len(cell) - 1
    code = [dict(cells[0], id=f"c{i}") for i in range(count)]
    padding = MAX_NOTEBOOK - len(json.dumps({"cells": code})) - 1000
    output = {"output_type": "stream", "name": "stdout", "text": "o" * padding}
    code[0] = dict(code[0], outputs=[output])
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": code}))


def archive(path: Path, varied: bool) -> None:
    """Members up to the unpacked cap: of random-looking text (`varied`, so that the
    archive comes near its own cap first), or of one line repeated (the most a small
    archive unpacks to)."""
    import random

    rng = random.Random(0)
    member = 512 * 1024
    with tarfile.open(path, "w:gz") as t:
        written = 0
        while written + member < MAX_UNPACKED and path.stat().st_size < MAX_ARCHIVE - 2 * member:
            if varied:
                data = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz \n") for _ in range(member)).encode()
            else:
                data = (b"x = 1\n" * member)[:member]
            info = tarfile.TarInfo(f"m/{written // member}.py")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
            written += member


def measure(*args: str) -> tuple[float, int, int, int]:
    run = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, cwd=ROOT, check=True)
    seconds, own, grader, child = run.stdout.split()
    return float(seconds), int(own), int(grader), int(child)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        notebook(folder / "big.ipynb")
        archive(folder / "big.tar.gz", varied=True)
        archive(folder / "deep.tar.gz", varied=False)
        for what, args, size in (
            ("notebook", ("notebook", str(folder / "big.ipynb")), (folder / "big.ipynb").stat().st_size),
            (
                "archive",
                ("archive", str(folder / "big.tar.gz"), str(folder / "o1")),
                (folder / "big.tar.gz").stat().st_size,
            ),
            (
                "archive",
                ("archive", str(folder / "deep.tar.gz"), str(folder / "o2")),
                (folder / "deep.tar.gz").stat().st_size,
            ),
        ):
            seconds, own, grader, child = measure(*args)
            beyond = max(grader, child) - own
            print(
                f"{what:>8}: {size / 2**20:5.1f} MB ({Path(args[1]).name}) read in {seconds:.2f} s; grader {own / 1024:.0f} MB before, "
                f"{grader / 1024:.0f} MB peak; its parsing child {child / 1024:.0f} MB peak: {beyond / 1024:.0f} MB "
                f"beyond the grader's own (targets: under 1 s, under 256 MB)"
            )


if __name__ == "__main__":
    main()
