"""The gradebook of a class: one row per student, in columns that a spreadsheet or a
learning platform imports (name, email and student id apart), one per exercise id, the
total, and a note for every row that is not a plain grade. The columns are defined here
once, for a batch and for anything that joins batches' reports."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from grader.calls.text import csv_cell
from grader.handins.submissions import EMPTY, NO_MODULE, NOT_GRADED, WORKED
from grader.handins.submitters import Submitter

WHO = ("submission", "name", "email", "sid", "github")  # the submission's name, then Submitter's fields
TOTALS = ("total", "max_total", "note", "flags")
UNTOUCHED = "untouched starter"
ERROR = "error"
# The headings of the notes that the note column carries: the hand-in's own, then those
# read from the report's items.
NOTED = (EMPTY, NO_MODULE, NOT_GRADED, UNTOUCHED, WORKED, ERROR)


def columns(ids: Sequence[str]) -> list[str]:
    """The gradebook's header: who, one column per exercise id, the totals."""
    return [*WHO, *ids, *TOTALS]


def rows(
    name: str, people: Sequence[Submitter], data: dict[str, Any] | None, ids: Sequence[str], why: str = ""
) -> list[list[Any]]:
    """The rows of one submission: one per person who handed it in (a single row with
    the identity left empty when the download names nobody), from its JSON report
    (`data`), or, where it has none, empty scores and `why`."""
    if data is None:
        grades = [*([""] * len(ids)), "", "", f"{NOT_GRADED}: {why}", ""]
    else:
        scores = {item["id"]: item["score"] for item in data["items"]}
        flags = "; ".join(f"{flag['code']}: {item['id']}" for item in data["items"] for flag in item.get("flags", ()))
        grades = [*(scores.get(i, "") for i in ids), data["score"], data["max_score"], note(data), flags]
    return [[name, p.name, p.email, p.sid, p.github, *grades] for p in (people or [Submitter()])]


def note(data: dict[str, Any]) -> str:
    """What the note column says of a report: the hand-in's notes that open with one of
    NOTED's headings, then what its items say as one (every exercise a stub, or one
    error that stopped them all); "" for a plain grade."""
    said = [n for n in data.get("notes", ()) if n.split(":", 1)[0] in NOTED]
    statuses = {item["status"] for item in data["items"]}
    messages = {item["message"] for item in data["items"]}
    if statuses == {"not_implemented"}:
        said.append(f"{UNTOUCHED}: every exercise still raises NotImplementedError")
    elif len(messages) == 1 and statuses <= {"missing", "error"} and not said:
        said.append(f"{ERROR if 'error' in statuses else NOT_GRADED}: {messages.pop()}")
    return "; ".join(said)


def to_csv(ids: Sequence[str], table: Iterable[list[Any]]) -> str:
    """The gradebook as CSV text, every cell made safe for a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns(ids))
    for row in table:
        writer.writerow([csv_cell(cell) for cell in row])
    return buffer.getvalue()


def tally(text: str) -> Counter[str]:
    """How many submissions of a gradebook (CSV text) have a note under each heading."""
    notes = {row["submission"]: row["note"] for row in csv.DictReader(io.StringIO(text))}
    return Counter(h for note in notes.values() for h in NOTED if any(p.startswith(f"{h}:") for p in note.split("; ")))
