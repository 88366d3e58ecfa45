"""One machine's share of a class: `batch --shard K/N` grades every N-th submission from
the K-th on (in the batch's order, so that the shares are as even as they can be), and
writes shard.json beside its reports, with what `merge` checks before it puts the shards
together: K and N, the seed every shard must share, and the whole class as this shard
saw it. Kept apart from batch.py and merge.py, which both read it, and free of torch, so
that the command line can parse --shard before anything heavy is imported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from grader.calls.files import write_atomically

RECORD = "shard.json"
NEEDS_SEED = (
    "--shard needs --seed: every shard must draw the same trials; give each the same seed "
    "(a new one: python -c 'import secrets; print(secrets.randbits(48))')"
)

T = TypeVar("T")


class ShardError(ValueError):
    """A shard asked for wrongly, or shards that do not make one class."""


@dataclass(frozen=True)
class Shard:
    """The K-th of N shares of a class."""

    index: int  # K, from 1
    count: int  # N

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse(text: str) -> Shard:
    """--shard's value: K/N, with 1 <= K <= N."""
    index, _, count = text.partition("/")
    try:
        shard = Shard(int(index), int(count))
    except ValueError:
        shard = Shard(0, 0)
    if not 1 <= shard.index <= shard.count:
        raise ShardError(f"expected K/N with 1 <= K <= N (this machine's share of N), e.g. 2/3, got {text!r}")
    return shard


def share(submissions: Sequence[T], shard: Shard) -> list[T]:
    """The shard's share of the class, `submissions` in the batch's order: round robin,
    so that no two shares differ by more than one submission."""
    return list(submissions[shard.index - 1 :: shard.count])


@dataclass(frozen=True)
class Record:
    """What a shard's folder says of the run that wrote it (shard.json)."""

    folder: Path
    shard: Shard
    seed: int
    submissions: tuple[str, ...]  # the whole class, every shard's share included, in the batch's order


def write_record(out: Path, shard: Shard, seed: int | None, submissions: Sequence[str]) -> None:
    """shard.json, written before anything is graded: a shard that stops halfway says
    which one it was."""
    if seed is None:
        raise ShardError(NEEDS_SEED)
    data = {"shard": shard.index, "of": shard.count, "seed": seed, "submissions": list(submissions)}
    write_atomically(out / RECORD, json.dumps(data, indent=1) + "\n")


def read_record(folder: Path) -> Record:
    """A shard's shard.json, checked field by field."""
    path = folder / RECORD
    if not path.is_file():
        raise ShardError(
            f"{folder} has no {RECORD}: expected the --out folder of a `backprop-ninja batch --shard K/N` run"
        )
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        shard = Shard(int(data["shard"]), int(data["of"]))
        seed, submissions = data["seed"], data["submissions"]
        if not (isinstance(seed, int) and isinstance(submissions, list) and 1 <= shard.index <= shard.count):
            raise ValueError
        if any(not isinstance(name, str) or "/" in name or name in ("", ".", "..") for name in submissions):
            raise ValueError  # a submission's name is a file's: never a path
        return Record(folder, shard, seed, tuple(submissions))
    except (ValueError, KeyError, TypeError):
        raise ShardError(
            f"{path} cannot be read as a shard's record (shard, of, seed, submissions): grade that shard again"
        ) from None
