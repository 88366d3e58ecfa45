"""The process boundary: where student code runs, and how it is kept from the grader.

One interface, `Runner`, with two implementations: `Sandbox` (client.py), whose student
code runs in worker processes that the kernel confines (zygote.py forks them,
worker.py serves calls, confinement.py holds the layers, wire.py the format of what
crosses, limits.py and processes.py the limits and the process plumbing), and
`InProcess` (inprocess.py), the grader's own process for --no-sandbox. Grading talks
to a Runner only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from grader.calls import Call, Watch
from grader.sandbox.confinement import Confinement, Required
from grader.sandbox.limits import Limits

if TYPE_CHECKING:
    from grader.submissions import Handed


class Runner(Protocol):
    """Runs one submission's code and gives back what each call returned."""

    handed: Handed  # the submission as handed in
    source: Path  # the folder of its modules
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
    ) -> Call:
        """Exercise 4's training run with the submission's mlp_backward."""

    def close(self) -> None:
        """Stop everything the submission started."""


def open_runner(
    submission: Path | str | Handed,
    limits: Limits,
    sandboxed: bool = True,
    require: Required = False,
    watch: tuple[str, ...] = (),
) -> Runner:
    """The runner of a submission (a folder, a notebook, or what was handed in):
    confined workers, or this process. `watch`: the forward operators whose evaluations
    its calls count (numerical.py); none for a training run."""
    if not sandboxed:
        from grader.sandbox.inprocess import InProcess

        return InProcess(submission, limits)
    from grader.sandbox.client import Sandbox

    return Sandbox(submission, limits, require, watch=watch)
