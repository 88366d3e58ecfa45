"""The process boundary: where student code runs, and how it is kept from the grader.

One interface, `Runner`, with two implementations: `Sandbox` (client.py), whose student
code runs in worker processes that the kernel confines and the seal watches (zygote.py
forks them, worker.py serves calls, confinement.py holds the kernel's layers, seal.py
decides whether a call used autograd, differentiators.py finds torch's own ways to
differentiate, wire.py is the format of what crosses, processes.py the process
plumbing, execution.py loads and calls student code on either side), and `InProcess`
(inprocess.py, guard.py), the grader's own process for --no-sandbox. Untrusted bytes
are parsed in a capped child process (parsing.py). Grading talks to a Runner only.

It may import grader.exercises (the catalogue, and the training run that a worker runs)
and grader.calls, and nothing above them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from grader.calls.call import Call, Watch
from grader.calls.limits import Limits
from grader.sandbox.confinement import Confinement, Required

if TYPE_CHECKING:  # the training run imports torch, which the zygote must start without
    from grader.exercises.training import Check


class Runner(Protocol):
    """Runs one submission's code and gives back what each call returned."""

    source: Path  # the folder of its modules, as handed in
    folder: Path  # the copy of it that is graded (its source is read from there)
    limits: Limits
    sandboxed: bool
    confinement: Confinement

    def submit(
        self,
        module: str,
        function: str,
        arguments: dict[str, Any],
        as_fwd: bool = False,
        limits: Limits | None = None,
        max_reply: int | None = None,
        watch: Watch = (),
    ) -> Callable[[], Call]:
        """Start a call; what returns its result (the grader works meanwhile). `watch`:
        the (forward operator, shape) pairs whose evaluations the call's count gives."""

    def time(
        self,
        module: str,
        function: str,
        arguments: dict[str, Any],
        as_fwd: bool,
        repeats: int,
        limits: Limits | None = None,
        max_reply: int | None = None,
    ) -> Call:
        """The CPU seconds one call of a function takes, measured over `repeats` calls;
        the value the first call returned."""

    def train(
        self,
        words: list[str],
        config: dict[str, Any],
        progress: Callable[[dict[str, Any]], None] | None = None,
        limits: Limits | None = None,
        check: Check | None = None,
    ) -> Call:
        """Exercise 4's training run with the submission's mlp_backward; `check` answers
        each comparison with autograd that the run asks for (--check-every)."""

    def close(self) -> None:
        """Stop everything the submission started."""


def open_runner(
    folder: Path | str,
    limits: Limits,
    sandboxed: bool = True,
    require: Required = False,
    watch: tuple[str, ...] = (),
) -> Runner:
    """The runner of a submission's folder of modules (a notebook is handed in first):
    confined workers, or this process. `watch`: the forward operators whose evaluations
    its calls count (grading/numerical.py); none for a training run."""
    if not sandboxed:
        from grader.sandbox.inprocess import InProcess

        return InProcess(folder, limits)
    from grader.sandbox.client import Sandbox

    return Sandbox(folder, limits, require, watch=watch)
