"""The grader inside a notebook (Jupyter, Colab, IPython): `check` and `train_network`.

    from grader import check
    check(cross_entropy_backward)                     # one function: a cmp line per gradient,
                                                      # the diagnosis, a picture of what is wrong
    check("ex2.cross_entropy_backward", my_dlogits)   # a function by another name, tried out
    check()                                           # every exercise function defined so far

A check grades the function as `backprop-ninja grade` does, on the same trials and under
the same sandbox and limits, from the source of the cells that define it and the values
it reads (live.py): the kernel's own variables are never touched, and an endless loop or
a crash costs the check, not the kernel. `check()` takes each exercise's function by the
rule the hand-in follows (handins/naming.py): the one its name holds; a function checked
under another name counts for its check alone, and the check says so. The sandbox's zygote starts when this module is
imported and serves the kernel's every check, so that checks after the first are quick.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import inspect
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from html import escape
from pathlib import Path
from typing import Any

import torch

from grader.calls.limits import training_limits
from grader.exercises import catalogue, training
from grader.exercises.rubric import Rubric, load_rubric
from grader.exercises.seeds import new_seed
from grader.grading.grader import grade
from grader.grading.lockstep import check_step
from grader.grading.results import ItemResult, Report
from grader.grading.timing import explained
from grader.handins.assembly import assemble, stand_in
from grader.handins.live import Namespace, SourceError
from grader.handins.naming import functions_of, handed_in, tried
from grader.handins.submissions import Handed
from grader.reporting import reports
from grader.reporting.rows import rows
from grader.sandbox import open_runner

NAME = "your notebook"  # how messages name it
_SEED = new_seed()  # one per kernel: every check of a session draws the same trials, made once


class CheckError(ValueError):
    """A check asked for in a way the grader cannot follow, with what to do."""


class Checked:
    """What a check found: the grade of every id of the functions checked. A notebook
    shows it as HTML, a terminal as text; `passed`, `score` and `max_score` say it in
    numbers, `report` holds everything."""

    def __init__(self, report: Report, functions: tuple[str, ...]):
        self.report = report
        self.functions = functions

    @property
    def items(self) -> tuple[ItemResult, ...]:
        return self.report.items

    @property
    def passed(self) -> bool:
        return self.report.passed

    @property
    def score(self) -> float:
        return self.report.score

    @property
    def max_score(self) -> float:
        return self.report.max_score

    @property
    def _one(self) -> bool:
        return len(self.functions) == 1

    def __repr__(self) -> str:
        report = reports.sanitized(self.report)
        if not self._one:
            return reports.table(report).rstrip("\n")
        lines, shown = [f"note: {note}" for note in report.notes], set()
        for row in rows(report.items):  # one traceback, shown once: the 26 keys of manual_backward may share it
            lines.append(reports.checked_row(row, trials=False, detail=row.first.detail not in shown).rstrip("\n"))
            shown.add(row.first.detail)
        if len(report.items) > 1:
            right = sum(item.status == "passed" for item in report.items)
            lines.append(
                f"{self.functions[0]}: {reports.points(report.score)}/{reports.points(report.max_score)} "
                f"points, {right} of {len(report.items)} ids right"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return reports.STYLE + reports.html_body(self.report, lines=self._one)


def check(
    what: Callable[..., Any] | str | None = None,
    function: Callable[..., Any] | None = None,
    *,
    rubric: str | Path | Rubric | None = None,
    sandbox: bool = True,
    seed: int | None = None,
) -> Checked:
    """Grade exercise functions of this notebook against autograd.

    check(fn): the exercise function `fn` (found by its name, e.g. cross_entropy_backward);
    check("ex2.cross_entropy_backward", fn): `fn` as the function of these ids, whatever
    its name; check("ex1"): the functions of these ids, as the notebook defines them;
    check(): every exercise function the notebook defines.
    `sandbox=False` runs them in this kernel, to debug with pdb; `seed` repeats a run."""
    namespace = _caller_namespace()
    rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    functions = _chosen(what, function, namespace)
    ids = _ids(what, functions, rubric)
    held = handed_in(namespace, callable)
    notes = [tried(getattr(fn, "__name__", ""), name) for name, fn in functions.items() if held.get(name) is not fn]
    handed = _handed(functions, namespace, lenient=what is None, notes=notes)
    try:
        with _kernel_kept():
            report = grade(handed, rubric, ids, sandbox, _SEED if seed is None else seed)
    finally:
        handed.close()
    return Checked(report, tuple(functions))


def hand_in(namespace: dict[str, Any]) -> Handed:
    """What `check()` grades in a kernel whose globals are `namespace`: every exercise
    function it hands in, with what they read, written as modules (the caller closes
    it). A notebook file handed in is read by grader.handins.submissions.hand_in; both
    take each exercise's function by the one rule of grader.handins.naming."""
    return _handed(_chosen(None, None, namespace), namespace, lenient=True)


def train_network(
    function: Callable[..., Any] | None = None,
    steps: int = 200_000,
    *,
    check_every: int = 0,
    seed: int = training.SEED,
    sandbox: bool = True,
    timeout: float | None = None,
) -> Trained:
    """Exercise 4 for real: train the lecture's network with `function` (this notebook's
    mlp_backward by default) as its only gradients, on the package's names, and show
    the loss curve, the losses and names sampled from the model. `check_every=1000`
    compares the gradients with autograd's as it goes, and stops at the first wrong one.
    The run stops at `timeout` seconds (by default a minute and a few ms a step, as
    grader.calls.limits.training_limit(steps) says), or as soon as its pace says it would
    not finish by then."""
    namespace = _caller_namespace()
    if timeout is not None and not timeout > 0:
        raise CheckError(f"timeout={timeout!r}: give the seconds the run may take, a number above 0")
    handed = _handed(_chosen("ex4.mlp_backward", function, namespace), namespace)
    config = training.Config(steps=steps, seed=seed, check_every=check_every, timeout=timeout or 0.0)
    limits = training_limits(load_rubric().limits, config.limit)
    show = _progress_printer()
    try:
        with _kernel_kept():
            runner = open_runner(handed.folder, limits, sandbox)
            try:
                words = training.read_words(training.NAMES)
                call = runner.train(
                    words,
                    asdict(config),
                    lambda p: show(int(p["step"]), int(p["steps"]), p["seconds"], p["loss"]),
                    limits,
                    check_step,
                )
                call = explained(call, handed.folder)
            finally:
                runner.close()
    finally:
        handed.close()
    return Trained(handed.origins.relocated(call), config, handed.notes)


class Trained:
    """A training run: the losses reached, names sampled, and the loss curve."""

    def __init__(self, call: Any, config: training.Config, notes: tuple[str, ...]):
        self.call, self.config, self.notes = call, config, notes
        self.lines, self.reached = reports.training(call, config, "notebook")

    @property
    def result(self) -> dict[str, Any]:
        """The run's figures: train_loss, val_loss, samples, curve, ..."""
        return {} if self.call.failure else dict(self.call.value)

    def __repr__(self) -> str:
        return "\n".join([*(f"note: {note}" for note in self.notes), *self.lines])

    def _repr_html_(self) -> str:
        from grader.reporting import pictures

        lines = "".join(f"<p>{escape(line)}</p>" for line in self.lines)
        notes = "".join(f'<p class="note">note: {escape(note)}</p>' for note in self.notes)
        curve = self.result.get("curve")
        image = ""
        if curve:
            png = pictures.curve(curve, self.config.every, "log10 loss, names.txt")
            image = f'<img alt="the loss curve" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        return f'{reports.STYLE}<div class="bpn">{notes}{lines}{image}</div>'


def _handed(
    functions: dict[str, Any], namespace: dict[str, Any], lenient: bool = False, notes: list[str] | None = None
) -> Handed:
    """The functions to grade, with what they read (and nothing else: the check's notes
    are about these functions alone), written as modules for grading. A function whose
    source cannot be read stops the check, or (`lenient`, when checking everything)
    fails its own ids with the reason."""
    live = Namespace(namespace)
    definitions = {}
    for name, fn in functions.items():
        try:
            definitions[name] = live.function(name, fn)
        except SourceError as error:
            if not lenient:
                raise CheckError(str(error)) from None
            definitions[name] = stand_in(name, RuntimeError(str(error)))
    assembly = assemble(definitions, live.resolve, NAME, notes or ())
    return Handed(NAME, assembly.written(), assembly.origins, assembly.notes, written=True)


def _chosen(what: Any, function: Any, namespace: dict[str, Any]) -> dict[str, Any]:
    """Exercise function name -> the function object to grade as it: the one given, or
    the one its name holds (naming.py)."""
    held = handed_in(namespace, callable)
    if callable(what):
        if function is not None:
            raise CheckError('give the function once: check(fn), or check("ex2.cross_entropy_backward", fn)')
        name = getattr(what, "__name__", "")
        # By its own name, or by the exercise names that hold it (`cross_entropy_backward = my_dlogits`).
        names = [name] if name in catalogue.FUNCTIONS else [n for n, fn in held.items() if fn is what]
        if not names:
            near = difflib.get_close_matches(name, list(catalogue.FUNCTIONS), 1, 0.6)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise CheckError(
                f"{name} is not one of the exercise functions{hint}: name it as the exercise does, or say which id it "
                f'is for: check("ex2.cross_entropy_backward", {name or "fn"})'
            )
        return dict.fromkeys(names, what)
    names = functions_of(_select(what)) if what is not None else list(held)
    if function is not None:
        if len(names) != 1:
            raise CheckError(
                f"{what!r} names the ids of {len(names)} functions ({', '.join(names)}): give the id of "
                "one function with a function"
            )
        return {names[0]: function}
    missing = [n for n in names if n not in held]
    if missing or not names:
        raise CheckError(
            f"this notebook defines no function {' or '.join(missing) or 'of the exercises'} yet: run the cell that "
            "defines it, then check again"
        )
    return {n: held[n] for n in names}


def _select(pattern: str) -> list[str]:
    from grader.frontends.cli import UsageError, select

    if not isinstance(pattern, str):
        raise CheckError(f"check takes a function or an exercise id, got a {type(pattern).__name__}")
    try:
        return select([pattern])
    except UsageError as error:
        raise CheckError(str(error)) from None


def _ids(what: Any, functions: dict[str, Any], rubric: Rubric) -> list[str]:
    """The ids a check grades: those `what` names, or every id of the functions."""
    if isinstance(what, str):
        return [i for i in _select(what) if i in rubric.graded]
    ids = [i.id for e in catalogue.EXERCISES if e.function in functions for i in e.items]
    if catalogue.TRAINING.function in functions:
        ids.append(catalogue.TRAINING.id)
    return [i for i in ids if i in rubric.graded]


def _caller_namespace() -> dict[str, Any]:
    """The globals of the code that called check or train_network: the notebook's."""
    frame = inspect.currentframe()
    try:
        while frame is not None and frame.f_globals.get("__name__") == __name__:
            frame = frame.f_back
        return frame.f_globals if frame is not None else {}
    finally:
        del frame


@contextlib.contextmanager
def _kernel_kept() -> Iterator[None]:
    """What grading changes in this process, put back: torch's threads and its random
    generator (the student's next cell must not notice a check ran)."""
    threads, state = torch.get_num_threads(), torch.random.get_rng_state()
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.random.set_rng_state(state)


def _progress_printer() -> Callable[..., None]:
    from grader.frontends.progress import Progress

    return Progress("steps", sys.stdout)


def _start_zygote() -> None:
    """The sandbox's zygote, starting now beside the kernel: its torch import is done by
    the time the first function is written."""
    from grader.sandbox import zygote

    with contextlib.suppress(Exception):  # a machine without a sandbox still checks, with sandbox=False
        zygote.start()


_start_zygote()
