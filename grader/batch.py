"""Grade a class in one batch: every submission of a folder (a folder or an archive
each, as Gradescope's and GitHub Classroom's downloads lay them out), on every core.

Each job process imports torch once and grades one submission after another, each in
its own sandbox. A report per submission is written as soon as it is graded, and a
submission whose report exists is skipped unless forced, so an interrupted batch resumes
where it stopped. A submission that cannot be unpacked, or that breaks anything, gets a
report of its own and never stops the batch. At the end: gradebook.csv, summary.md.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.catalogue import IDS
from grader.files import write_atomically
from grader.rubric import Rubric
from grader.submissions import SubmissionError, is_archive, locate, name_of, unpack

REPORTS = "reports"


@dataclass(frozen=True)
class Outcome:
    """What the batch did with one submission."""

    name: str
    graded: bool  # False when its report was already there
    error: str = ""  # why it could not be graded, if so


def discover(root: Path) -> list[Path]:
    """The submissions in `root`: its folders and archives, in name order (hidden entries
    and loose files, such as Gradescope's submission_metadata.yml, are not submissions)."""
    if not root.is_dir():
        raise SubmissionError(f"no folder {root}: give the folder that holds one folder or archive per submission")
    entries = [p for p in sorted(root.iterdir()) if not p.name.startswith(".")]
    return [p for p in entries if p.is_dir() or is_archive(p)]


def students(root: Path) -> dict[str, str]:
    """Submission name -> who submitted it, from Gradescope's submission_metadata.yml
    when the export has one (read line by line: no YAML library needed)."""
    path = root / "submission_metadata.yml"
    if not path.is_file():
        return {}
    found: dict[str, list[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key = re.match(r"^(\S[^:]*):\s*$", line)
        if key:
            current = key.group(1).strip("'\"")
            continue
        person = re.match(r"^\s*-?\s*:(name|email):\s*(.+?)\s*$", line)
        if current and person:
            found.setdefault(current, []).append(person.group(2).strip("'\""))
    return {name: " ".join(values) for name, values in found.items()}


def grade_one(path: str, out: str, rubric: Rubric, sandbox: bool) -> Outcome:
    """Grade one submission (in a job process) and write its JSON report."""
    from grader.grading import Grader

    source = Path(path)
    with tempfile.TemporaryDirectory(prefix="backprop-ninja-batch-") as tmp:
        try:
            folder = locate(unpack(source, Path(tmp)) if is_archive(source) else source)
        except SubmissionError as problem:
            return _ungraded(source, Path(out), rubric, sandbox, "missing", str(problem))
        with Grader(folder, rubric, sandbox=sandbox) as grader:
            report = grader.report()
    _write_report(source, Path(out), report)
    return Outcome(name_of(source), True)


def _ungraded(path: Path, out: Path, rubric: Rubric, sandbox: bool, status: str, why: str) -> Outcome:
    """A report for a submission that could not be graded: every id zero, with why."""
    from grader.results import ItemResult, Report

    items = tuple(ItemResult(i, 0.0, rubric.points[i], status, why) for i in rubric.graded)
    _write_report(path, out, Report(str(path), items, rubric.tolerance, sandbox))
    return Outcome(name_of(path), True, why)


def _write_report(path: Path, out: Path, report: Any) -> None:
    from grader import reports

    data = reports.to_json(report)
    data["submission"] = name_of(path)
    write_atomically(out / REPORTS / f"{name_of(path)}.json", reports.dumps(data))


def run(
    root: Path,
    out: Path,
    rubric: Rubric,
    jobs: int,
    force: bool = False,
    sandbox: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
) -> list[Outcome]:
    """Grade every submission under `root` that has no report in `out` yet (all of them
    with `force`), on `jobs` processes; then write the gradebook and the summary."""
    submissions = discover(root)
    (out / REPORTS).mkdir(parents=True, exist_ok=True)
    names = [name_of(p) for p in submissions]
    duplicates = [n for n, count in Counter(names).items() if count > 1]
    if duplicates:
        raise SubmissionError(f"two submissions would share the report name {duplicates[0]!r}: rename one of them")
    todo = [p for p in submissions if force or not (out / REPORTS / f"{name_of(p)}.json").is_file()]
    outcomes = [Outcome(name_of(p), False) for p in submissions if p not in todo]
    start = time.monotonic()
    try:
        outcomes += _grade_all(todo, out, rubric, jobs, sandbox, lambda done: progress and progress(
            done, len(todo), time.monotonic() - start))  # fmt: skip
    finally:
        write_summaries(root, out, names, rubric)
    return outcomes


def _grade_all(
    todo: list[Path], out: Path, rubric: Rubric, jobs: int, sandbox: bool, tick: Callable[[int], Any]
) -> list[Outcome]:
    """Grade on a pool of job processes. Should a job process die (student code cannot
    kill one from its sandbox, but a machine can), the submissions it may have held are
    graded again one by one, and only one that breaks its process alone is reported so."""
    outcomes: list[Outcome] = []
    pending = list(todo)
    while pending:
        in_flight = _pool(pending, out, rubric, jobs, sandbox, outcomes, tick)
        for path in in_flight:  # a pool broke: find out which submission breaks a process
            if not _pool([path], out, rubric, 1, sandbox, outcomes, tick):
                continue
            outcomes.append(_ungraded(path, out, rubric, sandbox, "error", "its grading process died"))
            tick(len(outcomes))
    return outcomes


def _pool(pending: list[Path], out: Path, rubric: Rubric, jobs: int, sandbox: bool, outcomes: list[Outcome],
          tick: Callable[[int], Any]) -> list[Path]:  # fmt: skip
    """Grade `pending` (consuming it) until done or until the pool breaks; the
    submissions in flight when it broke."""
    context = multiprocessing.get_context("fork")  # the job processes share this one's imports
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        running: dict[Future, Path] = {}
        while pending or running:
            while pending and len(running) < jobs * 2:
                path = pending.pop(0)
                running[pool.submit(grade_one, str(path), str(out), rubric, sandbox)] = path
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                path = running.pop(future)
                try:
                    outcomes.append(future.result())
                except BrokenProcessPool:
                    return [path, *running.values()]
                except Exception as error:  # noqa: BLE001 - one submission must not stop the batch
                    outcomes.append(_ungraded(path, out, rubric, sandbox, "error", f"the grader failed on it: {error}"))
                tick(len(outcomes))
    return []


def write_summaries(root: Path, out: Path, names: Iterable[str], rubric: Rubric) -> None:
    """gradebook.csv and summary.md, from every report of these submissions in `out`."""
    loaded = []
    for name in names:
        path = out / REPORTS / f"{name}.json"
        if path.is_file():
            loaded.append((name, json.loads(path.read_text())))
    who = students(root)
    ids = [i for i in IDS if i in rubric.graded]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "student", *ids, "total", "max_total"])
    for name, data in loaded:
        scores = {item["id"]: item["score"] for item in data["items"]}
        writer.writerow([name, who.get(name, ""), *(scores.get(i, "") for i in ids), data["score"], data["max_score"]])
    write_atomically(out / "gradebook.csv", buffer.getvalue())
    write_atomically(out / "summary.md", summary(loaded, ids))


def summary(loaded: list[tuple[str, dict[str, Any]]], ids: list[str]) -> str:
    """Per exercise id: how many submissions got it right, the mean score, and the most
    common diagnoses."""
    from grader.diagnosis import aggregate

    codes = aggregate(data for _, data in loaded)
    lines = [
        f"# backprop-ninja: {len(loaded)} submissions",
        "",
        "| id | right | mean score | most common diagnoses |",
        "|---|---:|---:|---|",
    ]
    for i in ids:
        items = [item for _, data in loaded for item in data["items"] if item["id"] == i]
        if not items:
            continue
        right = sum(item["status"] == "passed" for item in items)
        mean = sum(item["score"] for item in items) / len(items)
        common = ", ".join(f"{code} ({count})" for code, count in codes.get(i, Counter()).most_common(3))
        lines.append(
            f"| {i} | {right}/{len(items)} ({right / len(items):.0%}) | {mean:.2f} / {items[0]['max_score']:g} | {common} |"
        )
    totals = [data["score"] for _, data in loaded]
    if totals:
        lines += ["", f"Mean total: {sum(totals) / len(totals):.2f} / {loaded[0][1]['max_score']:g}."]
    return "\n".join(lines) + "\n"


def progress_printer(stream: Any = None, unit: str = "graded") -> Callable[..., None]:
    """A progress line: redrawn in place on a terminal, every tenth otherwise."""
    stream = stream or sys.stderr
    shown = [-1]

    def show(done: int, total: int, seconds: float, loss: float | None = None) -> None:
        rate = done / seconds * 60 if seconds > 0 else 0.0
        bar = "#" * (30 * done // max(total, 1))
        if loss is None:
            line = f"[{bar:<30}] {done}/{total} {unit}, {seconds:.0f} s, {rate:.0f} per minute"
        else:
            line = f"[{bar:<30}] {done}/{total} {unit}, loss {loss:.4f}, {seconds:.0f} s, {rate / 60:,.0f} per second"
        if stream.isatty():
            stream.write("\r" + line + ("\n" if done == total else ""))
        elif done == total or done * 10 // max(total, 1) > shown[0]:
            shown[0] = done * 10 // max(total, 1)
            stream.write(line + "\n")
        stream.flush()

    return show
