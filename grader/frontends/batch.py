"""Grade a class in one batch: every submission of a folder (a folder, an archive or a
notebook each, as Gradescope's and GitHub Classroom's downloads lay them out), on every
core.

Each job process imports torch once and grades one submission after another, each from
a private copy, in confinement of its own (its own uid where the grader is root), with a
zygote of the job's own that is replaced if it dies or stops. A report per submission is
written as soon as it is graded, and its hash goes into the batch's manifest: an
interrupted batch resumes where it stopped, trusting only the reports the manifest
vouches for (and grading on the trials of the same seed). A submission that cannot be
unpacked, breaks anything or whose report cannot be written gets an outcome of its own
and never stops the batch. At the end: gradebook.csv, summary.md; a batch stopped before
its end (Ctrl-C) writes them as gradebook.partial.csv and summary.partial.md, so that
nobody imports a gradebook that lacks rows, and says how to resume.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.calls.files import write_atomically
from grader.calls.text import one_line
from grader.exercises.rubric import Rubric
from grader.exercises.seeds import new_seed
from grader.frontends import shards
from grader.handins.submissions import (
    NOTEBOOK,
    WORKED,
    SubmissionError,
    is_archive,
    locate,
    name_of,
    unpack,
    worked_notebooks,
)
from grader.handins.submitters import Submitter, submitters

if TYPE_CHECKING:
    from grader.grading.results import Status
    from grader.sandbox.confinement import Required

REPORTS = "reports"
MANIFEST = "manifest.json"
GRADEBOOK, SUMMARY = "gradebook.csv", "summary.md"
STOPPED = 128 + signal.SIGTERM  # a job process's exit status when the batch stops it
PARTIAL = {GRADEBOOK: "gradebook.partial.csv", SUMMARY: "summary.partial.md"}  # what a batch stopped early writes


class Interrupted(KeyboardInterrupt):
    """The batch was stopped (Ctrl-C) before its end: how far it got, and where the
    partial gradebook is."""

    def __init__(self, reported: int, total: int, gradebook: Path):
        super().__init__(
            f"interrupted: {reported} of {total} submissions have a report; the gradebook so far: {gradebook}"
        )
        self.reported, self.total, self.gradebook = reported, total, gradebook


@dataclass(frozen=True)
class Outcome:
    """What the batch did with one submission."""

    name: str
    graded: bool  # False when its report was already there
    error: str = ""  # why it could not be graded, if so
    digest: str = ""  # the sha256 of the report written for it, if one was


def discover(root: Path) -> list[Path]:
    """The submissions in `root`: its folders, archives and notebooks, in name order
    (hidden entries and other loose files, such as Gradescope's submission_metadata.yml,
    are not submissions)."""
    if not root.is_dir():
        raise SubmissionError(
            f"no folder {root}: give the folder that holds one folder, archive or notebook per submission"
        )
    entries = [p for p in sorted(root.iterdir()) if not p.name.startswith(".")]
    return [p for p in entries if p.is_dir() or is_archive(p) or (p.is_file() and p.name.endswith(NOTEBOOK))]


@dataclass(frozen=True)
class Batch:
    """What every submission of one batch is graded with, and where its report goes."""

    out: Path
    rubric: Rubric
    sandbox: bool
    seed: int
    require: Required


def names_of(submissions: list[Path]) -> dict[Path, str]:
    """Each submission's name in the reports and the gradebook: its own, cleaned of
    control characters and made one line, and unique. A name no cleaning changed keeps
    it first; where several entries share a name (alice/ and alice.zip), each goes by its
    whole entry name; one that still clashes gets a number ("alice-2"). So every
    submission keeps a row of its own, and none can take another's."""
    base = {p: one_line(name_of(p)).strip() or "submission" for p in submissions}
    shared = {name for name, count in Counter(base.values()).items() if count > 1}
    found: dict[Path, str] = {}
    taken: set[str] = set()
    for path in sorted(submissions, key=lambda p: (base[p] != name_of(p), str(p))):
        wanted = (one_line(path.name).strip() or base[path]) if base[path] in shared else base[path]
        name, number = wanted, 1
        while name in taken:
            number += 1
            name = f"{wanted}-{number}"
        taken.add(name)
        found[path] = name
    return found


def grade_one(path: Path, name: str, batch: Batch) -> Outcome:
    """Grade one submission (in a job process) and write its JSON report."""
    try:
        return _graded(path, name, batch)
    except _Stopped:
        os._exit(STOPPED)  # its sandbox and its copy are gone: the pool must not hand it another


def _graded(path: Path, name: str, batch: Batch) -> Outcome:
    from grader.grading.grader import grade

    with tempfile.TemporaryDirectory(prefix="backprop-ninja-batch-") as tmp:
        try:
            handed = unpack(path, Path(tmp)) if is_archive(path) else path
            report = grade(handed, batch.rubric, sandbox=batch.sandbox, seed=batch.seed, require=batch.require)
        except SubmissionError as problem:
            return _ungraded(path, name, batch, "missing", str(problem))
        if report.items and all(item.status == "not_implemented" for item in report.items):
            report = replace(report, notes=(*report.notes, *_worked(path, handed)))
    return _write_report(name, batch.out, report, "")


def _worked(path: Path, handed: Path) -> list[str]:
    """Where the graded modules are the stubs: the submission's notebooks that hold
    work (the student did the notebook), each with the command that grades it."""
    if not handed.is_dir():
        return []
    inside = handed.resolve()
    found = [n.resolve() for n in worked_notebooks(locate(handed))]
    return [
        f"{WORKED}: {notebook.relative_to(inside).as_posix()} holds exercise functions that are not stubs: "
        + (
            f"grade it alone with  backprop-ninja grade --submission {path / notebook.relative_to(inside)}"
            if path == handed
            else f"grade it alone, unpacked from {path.name}"
        )
        for notebook in found
        if notebook.is_relative_to(inside)
    ]


class _Stopped(SystemExit):
    """A job process told to stop (SIGTERM: the batch was interrupted)."""


def _job_started() -> None:
    """In each job process: Ctrl-C is the batch's to handle, and it stops the jobs with
    SIGTERM, which unwinds what a job holds (its sandbox, its private copy) before it
    exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_job)


def _stop_job(signum: int, frame: object) -> None:
    raise _Stopped(STOPPED)


def _ungraded(path: Path, name: str, batch: Batch, status: Status, why: str) -> Outcome:
    """A report for a submission that could not be graded: every id zero, with why."""
    from grader.grading.grader import ungraded

    return _write_report(name, batch.out, ungraded(path, batch.rubric, None, batch.seed, status, why), why)


def _write_report(name: str, out: Path, report: Any, why: str) -> Outcome:
    """The submission's report, written; a report that cannot be written (a folder in
    its way, a full disk) costs this submission only."""
    from grader.reporting import reports

    data = reports.to_json(report)
    data["submission"] = name
    text = reports.dumps(data)
    try:
        write_atomically(out / REPORTS / f"{name}.json", text)
    except OSError as error:
        return Outcome(name, True, f"its report could not be written: {error}")
    return Outcome(name, True, why, hashlib.sha256(text.encode()).hexdigest())


def run(
    root: Path,
    out: Path,
    rubric: Rubric,
    jobs: int,
    force: bool = False,
    sandbox: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
    seed: int | None = None,
    require: Required = False,
    shard: shards.Shard | None = None,
) -> list[Outcome]:
    """Grade every submission under `root` that has no trusted report in `out` yet (all
    of them with `force`), on `jobs` processes; then write the gradebook and the summary.
    A resumed batch keeps its seed unless one is given. `require`: the confinement
    layers to refuse to run without (sandbox.client.Sandbox), checked before anything is
    graded."""
    submissions = discover(root)
    named = names_of(submissions)  # of the whole class: a shard names each submission as one batch would
    # Who handed each in, read from the whole class too (a Classroom slug is the prefix every
    # repository shares); a metadata file that cannot be read stops the batch before it starts.
    people = submitters(root, [named[p] for p in submissions])
    if sandbox and require is not False:
        _check_confinement(require)
    (out / REPORTS).mkdir(parents=True, exist_ok=True)
    if shard is not None:
        shards.write_record(out, shard, seed, [named[p] for p in submissions])
        submissions = shards.share(submissions, shard)
    names = [named[p] for p in submissions]
    manifest = {} if force else read_manifest(out)
    seed = seed if seed is not None else manifest.get("seed", new_seed())
    if manifest.get("seed") != seed:
        manifest = {}  # reports of other trials: graded again
    trusted = {n for n, digest in manifest.get("reports", {}).items() if _digest(out / REPORTS / f"{n}.json") == digest}
    manifest = {"seed": seed, "reports": {n: manifest["reports"][n] for n in trusted}}
    write_manifest(out, manifest)
    todo = [p for p in submissions if named[p] not in trusted]
    outcomes = [Outcome(named[p], False) for p in submissions if named[p] in trusted]
    start = time.monotonic()

    def done(outcome: Outcome) -> None:
        if outcome.digest:
            manifest["reports"][outcome.name] = outcome.digest
            write_manifest(out, manifest)
        if progress:
            progress(len(outcomes) - (len(submissions) - len(todo)), len(todo), time.monotonic() - start)

    complete = False
    try:
        _grade_all(todo, named, Batch(out, rubric, sandbox, seed, require), jobs, outcomes, done)
        complete = True
    except KeyboardInterrupt:
        raise Interrupted(len(outcomes), len(submissions), out / PARTIAL[GRADEBOOK]) from None
    finally:
        notes = {o.name: o.error for o in outcomes if o.error and not o.digest}
        write_summaries(out, names, rubric, notes, people, complete)
    return outcomes


def _check_confinement(require: Required) -> None:
    """Refuse the batch before it starts when this machine lacks a required layer."""
    from grader.exercises.rubric import load_rubric
    from grader.sandbox.client import Sandbox

    with tempfile.TemporaryDirectory(prefix="backprop-ninja-batch-") as empty:
        Sandbox(empty, load_rubric().limits, require).close()


def read_manifest(out: Path) -> dict[str, Any]:
    """The batch's manifest (its seed, and the hash of every report it wrote), or an empty
    one when there is none or it cannot be read."""
    try:
        data = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("seed"), int) or not isinstance(data.get("reports"), dict):
        return {}
    return {"seed": data["seed"], "reports": {str(k): str(v) for k, v in data["reports"].items()}}


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_atomically(out / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


def _grade_all(
    todo: list[Path],
    named: dict[Path, str],
    batch: Batch,
    jobs: int,
    outcomes: list[Outcome],
    done: Callable[[Outcome], None],
) -> None:
    """Grade on a pool of job processes. Should a job process die (student code cannot
    kill one from its sandbox, but a machine can), the submissions it may have held are
    graded again one by one, and only one that breaks its process alone is reported so."""
    pending = list(todo)
    while pending:
        in_flight = _pool(pending, named, batch, jobs, outcomes, done)
        for path in in_flight:  # a pool broke: find out which submission breaks a process
            if not _pool([path], named, batch, 1, outcomes, done):
                continue
            outcomes.append(_ungraded(path, named[path], batch, "error", "its grading process died"))
            done(outcomes[-1])


def _pool(
    pending: list[Path],
    named: dict[Path, str],
    batch: Batch,
    jobs: int,
    outcomes: list[Outcome],
    done: Callable[[Outcome], None],
) -> list[Path]:
    """Grade `pending` (consuming it) until done or until the pool breaks; the
    submissions in flight when it broke."""
    context = multiprocessing.get_context("fork")  # the job processes share this one's imports
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_job_started) as pool:
        running: dict[Future, Path] = {}
        try:
            while pending or running:
                while pending and len(running) < jobs * 2:
                    path = pending.pop(0)
                    running[pool.submit(grade_one, path, named[path], batch)] = path
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    path = running.pop(future)
                    try:
                        outcomes.append(future.result())
                    except BrokenProcessPool:
                        return [path, *running.values()]
                    except Exception as error:  # noqa: BLE001 - one submission must not stop the batch
                        outcomes.append(
                            _ungraded(path, named[path], batch, "error", f"the grader failed on it: {error}")
                        )
                    done(outcomes[-1])
        except KeyboardInterrupt:
            _stop(pool)
            raise
    return []


def _stop(pool: ProcessPoolExecutor) -> None:
    """Ctrl-C: nothing more is started, and the job processes stop now, each cleaning up
    what it was grading (graded again on resume)."""
    pool.shutdown(wait=False, cancel_futures=True)
    for job in multiprocessing.active_children():  # this process's children: the pool's jobs
        job.terminate()


def write_summaries(
    out: Path,
    names: Iterable[str],
    rubric: Rubric,
    notes: dict[str, str],
    people: dict[str, tuple[Submitter, ...]],
    complete: bool = True,
) -> None:
    """The gradebook and the summary, from every report of these submissions in `out`
    (a submission without a report gets a row with why it has none, in `notes`); named
    as partial unless the batch is `complete`, and the other pair removed, so that only
    the gradebook of the last run lies there."""
    from grader.reporting import gradebook

    loaded = []
    for name in names:
        try:
            loaded.append((name, json.loads((out / REPORTS / f"{name}.json").read_text())))
        except (OSError, ValueError):
            continue
    ids = [i for i in rubric.points if i in rubric.graded]
    reported = dict(loaded)
    table = [
        row
        for name in names
        if name in reported or name in notes
        for row in gradebook.rows(name, people.get(name, ()), reported.get(name), ids, notes.get(name, ""))
    ]
    texts = {GRADEBOOK: gradebook.to_csv(ids, table), SUMMARY: summary(loaded, ids)}
    for final, text in texts.items():
        written, stale = (final, PARTIAL[final]) if complete else (PARTIAL[final], final)
        write_atomically(out / written, text)
        (out / stale).unlink(missing_ok=True)


def summary(loaded: list[tuple[str, dict[str, Any]]], ids: list[str]) -> str:
    """Per exercise id: how many submissions got it right, the mean score, and the most
    common diagnoses."""
    from grader.grading.diagnosis import aggregate

    codes = aggregate(data for _, data in loaded)
    lines = [
        f"# backprop-ninja: {len(loaded)} submissions",
        "",
        "| id | right | mean score | most common diagnoses | flagged |",
        "|---|---:|---:|---|---|",
    ]
    for i in ids:
        items = [item for _, data in loaded for item in data["items"] if item["id"] == i]
        if not items:
            continue
        right = sum(item["status"] == "passed" for item in items)
        mean = sum(item["score"] for item in items) / len(items)
        common = ", ".join(f"{code} ({count})" for code, count in codes.get(i, Counter()).most_common(3))
        flagged = Counter(flag["code"] for item in items for flag in item.get("flags", ()))
        marks = ", ".join(f"{code} ({count})" for code, count in flagged.most_common())
        lines.append(
            f"| {i} | {right}/{len(items)} ({right / len(items):.0%}) | {mean:.2f} / {items[0]['max_score']:g} "
            f"| {common} | {marks} |"
        )
    totals = [data["score"] for _, data in loaded]
    if totals:
        lines += ["", f"Mean total: {sum(totals) / len(totals):.2f} / {loaded[0][1]['max_score']:g}."]
    return "\n".join(lines) + "\n"
