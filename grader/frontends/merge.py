"""The shards of a class put together: `backprop-ninja merge SHARD_DIR... --out DIR`
turns the folders of `batch --shard K/N` runs into the folder one batch of the whole
class would have written (reports/, manifest.json, gradebook.csv, summary.md), and
refuses shards that do not make one class: a shard missing or given twice, a submission
graded in two shards or in none, shards of different seeds, counts, classes or rubrics.
Everything is checked before anything is written.

The gradebook's rows are the shards' own, in the class's order: whatever columns batch
writes, the merged gradebook has them, cell for cell.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.calls.files import write_atomically
from grader.calls.text import csv_cell
from grader.frontends import batch
from grader.frontends.shards import Record, ShardError, read_record, share

GRADEBOOK = "gradebook.csv"


@dataclass(frozen=True)
class Merged:
    """What a merge put together."""

    shards: int
    submissions: int
    seed: int


@dataclass(frozen=True)
class _Graded:
    """One shard's share, read and checked: each submission's report and gradebook row."""

    record: Record
    reports: dict[str, bytes]  # name -> the report's bytes, which its shard's manifest vouches for
    data: dict[str, dict[str, Any]]  # name -> the report, read
    rows: dict[str, list[list[str]]]  # name -> its gradebook rows (one per student of a group)
    header: list[str]


def merge(folders: list[Path], out: Path) -> Merged:
    """Merge the shard folders into `out`, a new or empty folder."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ShardError(f"{out} exists and is not empty: merge into a new or empty folder, nothing is overwritten")
    records = [read_record(folder) for folder in folders]
    first = _agreeing(records)
    _covering(records)
    _not_overlapping(records)
    graded = [_graded(record) for record in records]
    _one_rubric(graded)
    if any(g.header != graded[0].header for g in graded):
        raise ShardError(
            "the shards' gradebooks have different columns: grade every shard with the same version of backprop-ninja"
        )
    reports = {name: text for g in graded for name, text in g.reports.items()}
    data = {name: report for g in graded for name, report in g.data.items()}
    rows = {name: row for g in graded for name, row in g.rows.items()}
    names = first.submissions
    (out / batch.REPORTS).mkdir(parents=True, exist_ok=True)
    for name in names:
        write_atomically(out / batch.REPORTS / f"{name}.json", reports[name].decode("utf-8"))
    digests = {name: hashlib.sha256(reports[name]).hexdigest() for name in names}
    batch.write_manifest(out, {"seed": first.seed, "reports": digests})
    buffer = io.StringIO()
    csv.writer(buffer).writerows([graded[0].header, *(row for name in names for row in rows[name])])
    write_atomically(out / GRADEBOOK, buffer.getvalue())
    loaded = [(name, data[name]) for name in names]
    ids = list(dict.fromkeys(item["id"] for _, data in loaded for item in data["items"]))
    write_atomically(out / "summary.md", batch.summary(loaded, ids))
    return Merged(len(records), len(names), first.seed)


def _agreeing(records: list[Record]) -> Record:
    """The first record, once every other agrees with it on N, the seed and the class."""
    first = records[0]
    for other in records[1:]:
        if other.shard.count != first.shard.count:
            raise ShardError(
                f"{first.folder} is shard {first.shard} but {other.folder} is shard {other.shard}: expected one N "
                "for every shard; grade them all with --shard K/N and the same N"
            )
        if other.seed != first.seed:
            raise ShardError(
                f"{first.folder} was graded on seed {first.seed} but {other.folder} on seed {other.seed}: every shard "
                "must draw the same trials; grade them again with the same --seed"
            )
        if other.submissions != first.submissions:
            missing = sorted(set(first.submissions) ^ set(other.submissions))
            found = f"({', '.join(missing[:5])} in one and not the other)" if missing else "in another order"
            raise ShardError(
                f"{first.folder} and {other.folder} were given different classes: {len(first.submissions)} and "
                f"{len(other.submissions)} submissions {found}; grade every shard on the same SUBMISSIONS folder"
            )
    return first


def _covering(records: list[Record]) -> None:
    """Every K from 1 to N, each once."""
    count = records[0].shard.count
    seen: dict[int, Path] = {}
    for record in records:
        if record.shard.index in seen:
            raise ShardError(
                f"shard {record.shard} is given twice, {seen[record.shard.index]} and {record.folder}: "
                "give each shard's folder once"
            )
        seen[record.shard.index] = record.folder
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if missing:
        raise ShardError(
            f"expected shards 1 to {count}, got {', '.join(f'{k}/{count}' for k in sorted(seen))}: shard "
            f"{', '.join(missing)} is missing; grade it with `backprop-ninja batch SUBMISSIONS --shard "
            f"{missing[0]} --seed {records[0].seed} --out DIR` and give its folder too"
        )


def _not_overlapping(records: list[Record]) -> None:
    """No submission of the class graded in two shards' folders."""
    class_ = set(records[0].submissions)
    graded_in: dict[str, Record] = {}
    for record in records:
        for name in sorted(class_.intersection(batch.read_manifest(record.folder).get("reports", {}))):
            if name in graded_in:
                other = graded_in[name]
                raise ShardError(
                    f"{name} is graded in two shards, {other.folder} (shard {other.shard}) and {record.folder} "
                    f"(shard {record.shard}): expected each submission in one shard; grade each shard into a "
                    "folder of its own"
                )
            graded_in[name] = record


def _graded(record: Record) -> _Graded:
    """A shard's reports and gradebook rows, for every submission of its share."""
    names = share(record.submissions, record.shard)
    vouched = batch.read_manifest(record.folder).get("reports", {})
    reports, data = {}, {}
    for name in names:
        path = record.folder / batch.REPORTS / f"{name}.json"
        text = path.read_bytes() if path.is_file() else b""
        if not text or hashlib.sha256(text).hexdigest() != vouched.get(name):
            raise ShardError(
                f"shard {record.shard} ({record.folder}) has no report of {name} that its manifest vouches for: its "
                f"batch did not finish, or could not write it; run the same `backprop-ninja batch --shard "
                f"{record.shard} --seed {record.seed}` on the same --out again: it grades only what is missing"
            )
        try:
            data[name] = json.loads(text)
        except ValueError:
            raise ShardError(f"{path} cannot be read as a report: grade shard {record.shard} again") from None
        if data[name].get("seed") != record.seed:
            raise ShardError(
                f"{path} was graded on seed {data[name].get('seed')}, its shard on seed {record.seed}: grade that "
                "shard again"
            )
        reports[name] = text
    header, rows = _gradebook(record, names)
    return _Graded(record, reports, data, rows, header)


def _gradebook(record: Record, names: list[str]) -> tuple[list[str], dict[str, list[list[str]]]]:
    """A shard's gradebook: its header, and its rows by submission (one per student of
    it, a submission after another in the share's order, as batch writes them)."""
    path = record.folder / GRADEBOOK
    try:
        header, *body = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    except (OSError, ValueError):
        raise ShardError(
            f"{path} cannot be read: run that shard's batch again on the same --out (it grades nothing twice)"
        ) from None
    rows: dict[str, list[list[str]]] = {}
    cells = {csv_cell(name): name for name in names}
    for row in body:
        name = cells.get(row[0] if row else "")
        if name is None:
            raise ShardError(f"{path}: a row of no submission of its share, {row[:2]}: run that shard's batch again")
        rows.setdefault(name, []).append(row)
    if list(rows) != names:
        raise ShardError(
            f"{path} has rows for {len(rows)} of the {len(names)} submissions of shard {record.shard} (or out of "
            "order): run that shard's batch again on the same --out (it grades nothing twice) to write its gradebook "
            "whole"
        )
    return header, rows


def _one_rubric(graded: list[_Graded]) -> None:
    """Every report of the same ids and total: the shards were graded on one rubric."""
    signatures: dict[tuple[Any, ...], Path] = {}
    for g in graded:
        for data in g.data.values():
            signatures.setdefault((data["max_score"], *(item["id"] for item in data["items"])), g.record.folder)
    if len(signatures) > 1:
        folders = sorted({str(folder) for folder in signatures.values()})
        raise ShardError(
            f"the shards were graded on different rubrics (other ids or points, in {', '.join(folders)}): grade "
            "every shard with the same --rubric"
        )
