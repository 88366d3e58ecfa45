"""What sharding a class buys: one batch of the whole class against 3 shards of it
(`batch --shard K/3`), run one after another on this machine as 3 machines like it would
run them side by side, then `merge`; each command timed whole, in a fresh process.

The class is batch_speed.py's mix (from the test corpora: the lecture followers' folders,
right and wrong formulations, stubs, broken). Prints each run's wall time, the slowest shard against the one batch (what 3
machines would take, against one: target at most 0.5, 1/3 being the ideal), the 3
shards together against the one batch (the machine time that sharding costs: each shard
imports torch and starts its sandbox of its own), and that fixed cost alone (a batch of
one submission).

    python benchmarks/shards.py [--jobs 2] [--count 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.batch_speed import build  # noqa: E402

SEED = "20261207"


def timed(*args: str) -> float:
    """The wall time of `python -m grader ARGS`, which must succeed."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--count", type=int, default=60)
    args = parser.parse_args()
    jobs = ["--jobs", str(args.jobs), "--seed", SEED]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "class"
        root.mkdir()
        build(root, args.count)
        whole = timed("batch", str(root), "--out", f"{tmp}/whole", *jobs)
        shards = [timed("batch", str(root), "--out", f"{tmp}/shard-{k}", "--shard", f"{k}/3", *jobs) for k in (1, 2, 3)]
        merging = timed("merge", *(f"{tmp}/shard-{k}" for k in (1, 2, 3)), "--out", f"{tmp}/merged")
        alone = Path(tmp) / "alone"
        shutil.copytree(ROOT / "solutions", alone / "student")
        fixed = timed("batch", str(alone), "--out", f"{tmp}/one", *jobs)
        same = (Path(tmp) / "whole/gradebook.csv").read_text() == (Path(tmp) / "merged/gradebook.csv").read_text()
    print(f"{args.count} submissions, {args.jobs} jobs per run")
    print(f"one batch: {whole:.1f} s")
    print(f"3 shards, one after another: {', '.join(f'{s:.1f} s' for s in shards)}; merge {merging:.1f} s")
    print(f"one batch of 1 submission: {fixed:.1f} s (the fixed cost that every shard pays again)")
    print(f"merged gradebook {'equals' if same else 'DIFFERS FROM'} the one batch's")
    slowest = (max(shards) + merging) / whole
    print(f"(slowest shard + merge) / one batch = {slowest:.2f} (3 machines against one; target: at most 0.5)")
    print(f"3 shards together / one batch = {sum(shards) / whole:.2f} (the machine time sharding costs)")


if __name__ == "__main__":
    main()
