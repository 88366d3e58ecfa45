"""Write a report in each output format. Pure functions: a Report in, text or data out.

Formats:
- table: the terminal table, one row per id, with the reason for every id that is not right;
- json: the project's own summary (documented in docs/platforms.md), with the per-trial figures;
- gradescope: Gradescope's results.json;
- junit: JUnit XML, one testcase per id, for any CI;
- html: one self-contained page with the table and heatmaps of every wrong gradient;
- classroom: the result GitHub Classroom's autograding reporter reads;
- markdown: the table for a CI job's summary page.
"""

from __future__ import annotations

import base64
import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, replace
from html import escape
from typing import TYPE_CHECKING, Any

from grader.calls.limits import MORE_TIME, TRAINING_SET_UP
from grader.calls.text import clean, markdown_cell, one_line
from grader.calls.version import __version__
from grader.grading.compare import Comparison
from grader.grading.diagnosis import Diagnosis
from grader.grading.results import Example, GradientResult, ItemResult, Report
from grader.grading.timing import BIG
from grader.reporting import classroom
from grader.reporting.rows import Row, rows

if TYPE_CHECKING:
    from grader.calls.call import Call
    from grader.exercises.training import Config

JSON_SCHEMA = "backprop-ninja/report/1"
BIG_N = BIG.shape.n

COLORS = {
    "passed": "32",
    "partial": "33",
    "failed": "31",
    "error": "31",
    "not_implemented": "90",
    "missing": "90",
    "not_graded": "90",
}


def sanitized(report: Report) -> Report:
    """The report with every text a submission may have put into it (what its code raised
    or printed, its name) made safe for any output (text.clean): every format starts here."""
    return replace(
        report,
        submission=one_line(report.submission),
        items=tuple(_clean_item(i) for i in report.items),
        notes=tuple(one_line(note) for note in report.notes),
    )


def _clean_item(item: ItemResult) -> ItemResult:
    return replace(
        item,
        message=clean(item.message),
        detail=clean(item.detail),
        diagnosis=_clean(item.diagnosis),
        gradients=tuple(_clean_gradient(g) for g in item.gradients),
        flags=tuple(replace(f, message=clean(f.message)) for f in item.flags),
    )


def _clean_gradient(gradient: GradientResult) -> GradientResult:
    comparisons = tuple(
        replace(c, message=clean(c.message), diagnosis=_clean(c.diagnosis)) for c in gradient.comparisons
    )
    return replace(gradient, name=clean(gradient.name), diagnosis=_clean(gradient.diagnosis), comparisons=comparisons)


def _clean(diagnosis: Diagnosis | None) -> Diagnosis | None:
    if diagnosis is None:
        return None
    return replace(diagnosis, message=clean(diagnosis.message), hint=clean(diagnosis.hint))


def header(report: Report) -> list[str]:
    """What graded the report: the version, the seed that drew its trials, and whether
    student code ran unconfined. Which confinement layers held is for instructors: the
    JSON report and `backprop-ninja doctor` say it."""
    lines = [
        f"backprop-ninja {__version__}: grading {report.submission}",
        f"seed {report.seed} (--seed {report.seed} repeats these trials)",
    ]
    if not report.sandboxed:
        lines.append("sandbox: OFF (--no-sandbox): student code ran in the grader's process, without limits")
    return lines + [f"note: {note}" for note in report.notes]


def confinement(report: Report) -> str:
    """How student code was confined, for the log of a run that writes an instructor's
    report: which layers held, and which this machine lacks."""
    if not report.sandboxed or not report.confinement:
        return ""
    off = [layer.name for layer in report.confinement if not layer.active]
    on = len(report.confinement) - len(off)
    lacking = f" (not here: {', '.join(off)}; see backprop-ninja doctor)" if off else ""
    return f"sandbox: {on} of {len(report.confinement)} confinement layers{lacking}"


def points(score: float) -> str:
    return f"{round(score, 2):g}"


def table(report: Report, color: bool = False, verbose: bool = False) -> str:
    """The per-id table a student reads, with the total under it."""

    def paint(status: str) -> str:
        text = f"{status:<15}"
        return f"\033[{COLORS[status]}m{text}\033[0m" if color else text

    report = sanitized(report)
    shown = rows(report.items)
    width = max(len(row.label) for row in shown) if shown else 10
    lines = header(report)
    lines.append("")
    lines.append(f"{'id':<{width}}  {'points':>9}  {'status':<15}  reason")
    under = " " * (width + 30)  # what a student's code said stays in the reason column, however many lines
    for row in shown:
        item = row.first
        score = f"{points(row.score)}/{points(row.max_score)}"
        lines.append(
            f"{row.label:<{width}}  {score:>9}  {paint(item.status)}  {indented(item.message, under)}".rstrip()
        )
        if row.covers:
            lines.append(f"{under}ids: {row.covers}")
        if item.diagnosis and item.diagnosis.hint:
            lines.append(f"{under}hint: {indented(item.diagnosis.hint, under + '      ')}")
        lines += [f"{under}flag: {indented(flag.message, under + '      ')}" for flag in item.flags]
    passed = sum(item.status == "passed" for item in report.items)
    total = f"{points(report.score)}/{points(report.max_score)}"
    lines += ["", f"{'total':<{width}}  {total:>9}  {passed} of {len(report.items)} ids right"]
    items, trials = report.at_submission.items, report.at_submission.trials
    if items or trials:
        lines.append("")
        if items:
            lines.append(f"checked only when your instructor grades, not here: {', '.join(items)}")
        if trials:
            lines.append(f"checked on more trials when your instructor grades: {', '.join(trials)}")
    if report.speed:
        lines += ["", f"speed at n = {BIG_N} (yours against autograd's backward of the same op):"]
        for speed in report.speed:
            flag = "SLOW" if speed.slow else "ok"
            lines.append(
                f"  {speed.function:<42} {speed.seconds * 1e3:9.3f} ms {speed.reference_seconds * 1e3:9.3f} ms "
                f"{speed.ratio:7.1f}x  {flag}"
            )
        lines += [f"  {speed.note}" for speed in report.speed if speed.slow]
    if verbose:
        for item in report.items:
            if item.detail:
                lines += ["", f"--- {item.id} ---", indented("  | " + item.detail.rstrip(), "  | ")]
    return "\n".join(lines) + "\n"


def indented(text: str, indent: str) -> str:
    """`text` with every line after its first indented: in a terminal, no line of what
    a submission said starts where the grader's own lines do."""
    return text.replace("\n", "\n" + indent)


def cmp_line(c: Comparison) -> str:
    """One gradient in one trial, as the lecture's cmp prints it, with the shapes and the trial."""
    shapes = f"shape {c.shape}" + ("" if c.shape == c.expected_shape else f", expected {c.expected_shape}")
    if c.error is None:
        return f"{c.name:15s} | {c.problem or 'right':13s} | {shapes} | {c.trial}"
    return (
        f"{c.name:15s} | exact: {c.exact!s:5s} | approximate: {c.approximate!s:5s} | "
        f"maxdiff: {c.maxdiff:.3g} | relerr: {c.error:.3g} | {shapes} | {c.trial}"
    )


def checked(result: ItemResult, trials: bool = True, detail: bool = True, title: str = "") -> str:
    """One id as `check` shows it: the verdict and the reason, a cmp line per gradient
    (per trial, or the one that says the most), the diagnosis and, for an error, the
    traceback. `title`: the first line, where it is not the id's own."""
    lines = [title or f"{result.id}: {points(result.score)}/{points(result.max_score)} {result.status}"]
    if result.message:
        lines.append(f"  {result.message}")
    for gradient in result.gradients:
        lines += [cmp_line(c) for c in (gradient.comparisons if trials else telling(gradient)[:1])]
    waiting = result.status in ("not_implemented", "missing")
    if result.diagnosis and not waiting:
        lines.append(
            f"diagnosis: {result.diagnosis.code}"
            + (f"; hint: {result.diagnosis.hint}" if result.diagnosis.hint else "")
        )
    if detail and result.detail and not waiting:
        lines.append(result.detail.rstrip())
    return "\n".join(lines) + "\n"


def checked_row(row: Row, trials: bool = True, detail: bool = True) -> str:
    """A row as `check` shows it: one id as checked() does, or the ids that share a
    reason with their verdict, the reason and the diagnosis once, and every cmp line."""
    if not row.covers:
        return checked(row.first, trials, detail)
    item = row.first
    title = f"{row.label}: {points(row.score)}/{points(row.max_score)} {item.status} ({row.covers})"
    every = replace(item, gradients=tuple(g for i in row.items for g in i.gradients))
    return checked(every, trials, detail, title)


def telling(gradient: GradientResult) -> list[Comparison]:
    """A gradient's trials, the first wrong one first: the one that says the most."""
    return sorted(gradient.comparisons, key=lambda c: c.passed)


def to_json(report: Report) -> dict[str, Any]:
    """The project's own report: totals, then every id with every gradient's figures in
    every trial."""
    report = sanitized(report)
    return {
        "schema": JSON_SCHEMA,
        "version": __version__,
        "submission": report.submission,
        "score": report.score,
        "max_score": report.max_score,
        "tolerance": report.tolerance,
        "sandboxed": report.sandboxed,
        "seed": report.seed,
        "confinement": [asdict(layer) for layer in report.confinement],
        "notes": list(report.notes),
        "items": [_item(item) for item in report.items],
        "speed": [
            {
                "function": s.function,
                "seconds": s.seconds,
                "reference_seconds": s.reference_seconds,
                "ratio": s.ratio,
                "slow": s.slow,
                "note": s.note,
            }
            for s in report.speed
        ],
    }


def _item(item: ItemResult) -> dict[str, Any]:
    return {
        "id": item.id,
        "score": item.score,
        "max_score": item.max_score,
        "status": item.status,
        "message": item.message,
        "diagnosis": _diagnosis(item.diagnosis),
        "detail": item.detail,
        "flags": [asdict(flag) for flag in item.flags],
        "gradients": [
            {
                "name": g.name,
                "passed": g.passed,
                "diagnosis": _diagnosis(g.diagnosis),
                "trials": [_trial(c) for c in g.comparisons],
            }
            for g in item.gradients
        ],
    }


def _diagnosis(diagnosis: Diagnosis | None) -> dict[str, str] | None:
    return None if diagnosis is None else asdict(diagnosis)


def _trial(comparison: Comparison) -> dict[str, Any]:
    figures = {k: v for k, v in asdict(comparison).items() if k not in ("name", "diagnosis")}
    return {**_finite(figures), "diagnosis": _diagnosis(comparison.diagnosis)}


def _finite(figures: dict[str, Any]) -> dict[str, Any]:
    """JSON has no inf or nan: such figures become null."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in figures.items()}


def to_gradescope(report: Report) -> dict[str, Any]:
    """Gradescope's results.json: a test per id, named by the id, tagged with its
    diagnosis code. While any id is not yet visible to students, the top-level output
    names no total: Gradescope hides the total score then, and so must the text."""
    report = sanitized(report)
    hidden = any(item.visibility != "visible" for item in report.items)
    total = "graded" if hidden else f"{points(report.score)}/{points(report.max_score)} points"
    return {
        "score": report.score,
        "execution_time": max(1, math.ceil(report.seconds)),
        "output": f"backprop-ninja {__version__}: {total}"
        + ("" if report.sandboxed else " (graded with --no-sandbox)")
        + f" (seed {report.seed})"
        + ("; some results show only once your instructor releases them" if hidden else "")
        + "".join(f"\n\nnote: {note}" for note in report.notes)
        + "".join(f"\n\nslow: {s.note}" for s in report.speed if s.slow),
        "tests": [
            {
                "name": item.id,
                "score": item.score,
                "max_score": item.max_score,
                "status": "passed" if item.status == "passed" else "failed",
                "output": item.feedback,
                "visibility": item.visibility,
                "tags": [
                    item.status,
                    *([item.diagnosis.code] if item.diagnosis else []),
                    *(f.code for f in item.flags),
                ],
                "extra_data": {
                    "status": item.status,
                    "diagnosis": item.diagnosis.code if item.diagnosis else None,
                    "flags": [f.code for f in item.flags],
                },
            }
            for item in report.items
        ],
    }


def markdown(report: Report) -> str:
    """The score table in Markdown, for a CI job's summary page."""
    report = sanitized(report)
    cell = markdown_cell
    lines = [
        f"## backprop-ninja: {points(report.score)}/{points(report.max_score)} points",
        "",
        *(f"> note: {cell(note)}\n" for note in report.notes),
        "| id | points | status | reason |",
        "|---|---:|---|---|",
    ]
    for row in rows(report.items):
        item = row.first
        covers = f" (ids: {row.covers})" if row.covers else ""
        hint = f" (hint: {item.diagnosis.hint})" if item.diagnosis and item.diagnosis.hint else ""
        hint += "".join(f" (flag: {flag.message})" for flag in item.flags)
        lines.append(
            f"| {cell(row.label)} | {points(row.score)}/{points(row.max_score)} | {item.status} | "
            f"{cell(item.message + covers + hint)} |"
        )
    items, trials = report.at_submission.items, report.at_submission.trials
    if items or trials:
        lines += [
            "",
            f"Checked only when the instructor grades: {', '.join(items) or 'none'}; on more trials: {', '.join(trials) or 'none'}.",
        ]
    return "\n".join(lines) + "\n"


def to_junit(report: Report) -> str:
    """JUnit XML: one testcase per id; a wrong id is a failure, one whose code raised
    is an error, and the score goes in the testcase's properties."""
    report = sanitized(report)
    errors = [i for i in report.items if i.status == "error"]
    failures = [i for i in report.items if i.status not in ("passed", "error")]
    suites = ET.Element(
        "testsuites",
        name="backprop-ninja",
        tests=str(len(report.items)),
        failures=str(len(failures)),
        errors=str(len(errors)),
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=report.submission,
        tests=str(len(report.items)),
        failures=str(len(failures)),
        errors=str(len(errors)),
        skipped="0",
    )
    properties = ET.SubElement(suite, "properties")
    summary = (
        ("score", report.score),
        ("max_score", report.max_score),
        ("tolerance", report.tolerance),
        ("sandboxed", report.sandboxed),
    )
    for name, figure in summary:
        ET.SubElement(properties, "property", name=name, value=str(figure))
    for item in report.items:
        case = ET.SubElement(suite, "testcase", classname=item.id.split(".")[0], name=item.id, time="0")
        case_properties = ET.SubElement(case, "properties")
        for name, value in (("score", item.score), ("max_score", item.max_score), ("status", item.status)):
            ET.SubElement(case_properties, "property", name=name, value=str(value))
        if item.status != "passed":
            tag = "error" if item.status == "error" else "failure"
            kind = item.diagnosis.code if item.diagnosis else item.status
            element = ET.SubElement(case, tag, message=item.message, type=kind)
            element.text = "\n".join(filter(None, [item.feedback, item.detail]))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def html(report: Report) -> str:
    """One self-contained HTML page: the score table, then for every wrong id its
    diagnosis and, for each wrong gradient, the heatmaps of the student's tensor, the
    reference and their difference. Nothing is fetched from the network."""
    return PAGE.format(version=__version__, style=STYLE, body=html_body(report))


def html_body(report: Report, lines: bool = False) -> str:
    """The report as an HTML fragment (the page's body, and what a notebook's check
    shows): the total, the table, the wrong ids with their pictures, then what is not
    there yet. `lines`: a cmp line per gradient under the table."""
    from grader.reporting import pictures

    report = sanitized(report)
    shown_rows = rows(report.items)
    sectioned = [row for row in shown_rows if _pictured(row)]
    linked = {row.label for row in sectioned}
    cells = []
    for row in shown_rows:
        item = row.first
        hint = (
            f'<div class="hint">hint: {escape(item.diagnosis.hint)}</div>'
            if item.diagnosis and item.diagnosis.hint
            else ""
        )
        covers = f'<div class="ids">ids: {escape(row.covers)}</div>' if row.covers else ""
        link = f'<a href="#{item.id}">{escape(row.label)}</a>' if row.label in linked else escape(row.label)
        cells.append(
            f'<tr class="{item.status}"><td{LEFT}>{link}</td><td class="points"{RIGHT}>'
            f"{points(row.score)}/{points(row.max_score)}</td>"
            f"<td{LEFT}>{item.status}</td><td{LEFT}>{escape(item.message)}{covers}{hint}</td></tr>"
        )
    # The table says what is wrong and what to do; a section below it shows the pictures
    # of the wrong gradients and the traceback, for the rows that have them.
    sections, shown = [], set()  # one traceback, shown once: the 26 keys of manual_backward may share it
    for row in sorted(sectioned, key=lambda r: not _pictures(r)):
        detail = row.first.detail
        sections.append(_section(row, pictures, detail not in shown))
        shown.add(detail)
    if report.speed:
        timed = "".join(
            f'<tr class="{"failed" if s.slow else "passed"}"><td{LEFT}>{escape(s.function)}</td>'
            f'<td class="points"{RIGHT}>{s.seconds * 1e3:.3f} ms</td>'
            f'<td class="points"{RIGHT}>{s.reference_seconds * 1e3:.3f} ms</td>'
            f'<td class="points"{RIGHT}>{s.ratio:.1f}x</td><td{LEFT}>{escape(s.note)}</td></tr>'
            for s in report.speed
        )
        sections.append(
            f"<section><h2>speed at n = {BIG_N}</h2><table{TABLE}><thead><tr>"
            + "".join(f"<th{LEFT}>{name}</th>" for name in ("function", "yours", "autograd", "ratio", "note"))
            + f"</tr></thead><tbody>{timed}</tbody></table></section>"
        )
    head = [f"<p>{escape(report.submission)}: <b>{points(report.score)}/{points(report.max_score)}</b> points</p>"]
    if not report.sandboxed:
        head.append("<p><b>sandbox off</b>: student code ran in the grader's process.</p>")
    head += [f'<p class="note">note: {escape(note)}</p>' for note in report.notes]
    cmp = ""
    if lines:
        telling_lines = [cmp_line(c) for item in report.items for g in item.gradients for c in telling(g)[:1]]
        cmp = f'<pre class="cmp"{MONO}>{escape(chr(10).join(telling_lines))}</pre>' if telling_lines else ""
    table = (
        f"<table{TABLE}><thead><tr>"
        + "".join(f"<th{LEFT}>{name}</th>" for name in ("id", "points", "status", "reason"))
        + "</tr></thead>"
        f"<tbody>{''.join(cells)}</tbody></table>"
    )
    return f'<div class="bpn">{"".join(head)}{table}{cmp}{"".join(sections)}</div>'


def _pictured(row: Row) -> bool:
    """A row with a section of its own: wrong gradients to draw, or a traceback."""
    waiting = row.first.status in ("passed", "not_implemented", "missing", "not_graded")
    return not waiting and bool(_pictures(row) or row.first.detail)


def _pictures(row: Row) -> list[tuple[GradientResult, Example]]:
    return [(g, g.example) for item in row.items for g in item.gradients if g.example is not None]


def _section(row: Row, pictures: Any, detail: bool = True) -> str:
    """One row's pictures of its wrong gradients, and its traceback: what the table's
    reason and hint say is not said again, except where one gradient's own diagnosis
    differs from the row's."""
    item, d = row.first, row.first.diagnosis
    figures = []
    for g, example in _pictures(row):
        own = g.diagnosis if g.diagnosis and d and g.diagnosis.message != d.message else None
        got, expected, trial = example.got, example.expected, example.trial
        image = base64.b64encode(pictures.picture(g.name, got, expected, trial, own)).decode()
        figures.append(
            f'<figure><img alt="{escape(g.name)}: yours, autograd and their difference" '
            f'src="data:image/png;base64,{image}"></figure>'
        )
    code = f' <span class="code">{escape(d.code)}</span>' if d else ""
    details = (
        f"<details><summary>details</summary><pre{MONO}>{escape(item.detail)}</pre></details>"
        if detail and item.detail
        else ""
    )
    return f'<section id="{escape(item.id)}"><h2>{escape(row.label)}{code}</h2>{"".join(figures)}{details}</section>'


# Inline, where a page's own stylesheet would win: JupyterLab right-aligns and centres the
# tables of every output (with selectors more specific than a report's stylesheet can
# scope), wraps every <pre> and, exported by nbconvert, may drop its monospace font.
LEFT = ' style="text-align: left"'
RIGHT = ' style="text-align: right"'
TABLE = ' style="margin-left: 0; margin-right: auto; table-layout: auto"'
MONO = (
    ' style="white-space: pre; overflow-x: auto; word-break: normal; overflow-wrap: normal; '
    'font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"'
)

# Scoped to the report's own element, so that a notebook's check output styles nothing else.
STYLE = """<style>
.bpn {{ font-family: system-ui, sans-serif; color: #222; }}
.bpn table {{ border-collapse: collapse; }} .bpn td, .bpn th {{ padding: 2px 10px; text-align: left; vertical-align: top; }}
.bpn tr.passed td:nth-child(3) {{ color: #1a7f37; }} .bpn tr.partial td:nth-child(3) {{ color: #9a6700; }}
.bpn tr.failed td:nth-child(3), .bpn tr.error td:nth-child(3) {{ color: #cf222e; }}
.bpn tr.not_implemented td:nth-child(3), .bpn tr.missing td:nth-child(3) {{ color: #6e7781; }}
.bpn td.points {{ text-align: right; }} .bpn .hint {{ color: #555; font-size: 90%; }} .bpn .note {{ color: #555; }}
.bpn .code {{ font-family: monospace; background: #eee; padding: 1px 4px; }} .bpn pre.cmp {{ font-size: 85%; }}
.bpn figure {{ margin: 1em 0; }} .bpn figcaption {{ color: #555; }}
.bpn section {{ border-top: 1px solid #ddd; margin-top: 1.5em; }} .bpn img {{ max-width: 100%; }}
</style>""".replace("{{", "{").replace("}}", "}")

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>backprop-ninja report</title>
{style}</head>
<body style="margin: 2em">
<h1>backprop-ninja {version}</h1>
{body}
</body></html>
"""


def training(call: Call, config: Config, front: str = "cli") -> tuple[list[str], bool]:
    """What a training run (a sandbox's Call) reached, in lines for a student, and
    whether it ran to the end; `front` (a key of limits.MORE_TIME) says how the student
    gives a run more time."""
    if call.failure:
        return [f"training did not run: {call.failure.message}"], False
    result, lines = call.value, []
    for check in result.get("checks", [])[-1:]:
        largest = {k: max(c["parameters"][k]["max_abs_diff"] for c in result["checks"]) for k in check["parameters"]}
        lines.append(
            f"autograd checks: {len(result['checks'])}, every {config.check_every} steps; largest "
            "difference per parameter:"
        )
        lines.append("  " + ", ".join(f"{k} {v:.2e}" for k, v in largest.items()))
    done, stopped = result["steps_done"], result.get("stopped")
    lines.append(
        f"{done} steps in {result['seconds']:.1f} s ({done / max(result['seconds'], 1e-9):,.0f} steps per second)"
    )
    if stopped and stopped.get("kind") == "not_implemented":
        return [f"training did not run: {stopped['message']}"], False
    if stopped and stopped.get("kind") == "time_limit":
        return [*lines, *_out_of_time(result, config, front)], False
    if stopped:
        return [*lines, f"stopped at step {stopped['step']}: {stopped['message']}"], False
    if result.get("slow"):
        lines.append(f"slow: {result['slow']}")
    lines.append(
        f"train loss {result['train_loss']:.4f}, validation loss {result['val_loss']:.4f} "
        "(the lecture reaches 2.07 and 2.11 on its names.txt after 200,000 steps)"
    )
    if config.steps >= 100_000 and result["val_loss"] > 2.3:
        lines.append(
            "that is far above what right gradients reach: train again, comparing with autograd every 1000 "
            "steps (--check-every 1000, or check_every=1000), to find the wrong gradient"
        )
    lines.append("samples: " + ", ".join(result["samples"]))
    return lines, True


def _out_of_time(result: dict[str, Any], config: Config, front: str) -> list[str]:
    """A run stopped by its time limit: how far it got, why it was slow where measured,
    and how to give it the time it needs."""
    done, seconds = result["steps_done"], result["seconds"]
    loss = result.get("loss")
    running = f", running loss {loss:.4f}" if isinstance(loss, (int, float)) and math.isfinite(loss) else ""
    lines = [f"stopped at step {done:,} of {config.steps:,}{running}: {result['stopped']['message']}"]
    if result.get("slow"):
        lines.append(f"slow: {result['slow']}")
    needed = seconds * config.steps / done + TRAINING_SET_UP if done else 2 * config.limit
    more = MORE_TIME.get(front, MORE_TIME["cli"]).format(seconds=60 * math.ceil(needed / 60))
    lines.append(f"to give it the time it needs at this pace: {more}")
    return lines


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {
    "table": table,
    "json": lambda report: dumps(to_json(report)),
    "gradescope": lambda report: dumps(to_gradescope(report)),
    "junit": to_junit,
    "html": html,
    "classroom": lambda report: classroom.text(sanitized(report)),
    "markdown": markdown,
}
