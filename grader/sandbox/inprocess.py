"""The runner of --no-sandbox: student code in the grader's own process, without
limits or confinement (to stop in pdb, say). Every report says so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from grader.calls.call import Call, Watch
from grader.calls.limits import Limits
from grader.exercises.training import Check
from grader.sandbox.confinement import Confinement
from grader.sandbox.execution import StudentCode

NOT_CONFINED = "--no-sandbox: student code runs in the grader's own process"


class InProcess:
    """A submission whose code runs in this process."""

    sandboxed = False
    confinement = Confinement.none(NOT_CONFINED)

    def __init__(self, folder: Path | str, limits: Limits):
        self.source = self.folder = Path(folder).resolve()
        self.limits = limits
        self._code = StudentCode(self.folder, limits)

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
        """The call, made now (this is the grader's own process), and what returns it."""
        call = self._code.call(module, function, arguments, as_fwd, limits, watch)
        return lambda: call

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
        return self._code.time(module, function, arguments, as_fwd, repeats)

    def train(
        self,
        words: list[str],
        config: dict[str, Any],
        progress: Callable[[dict[str, Any]], None] | None = None,
        limits: Limits | None = None,
        check: Check | None = None,
    ) -> Call:
        # One thread, as in the sandbox: the network is small, and torch's threads waiting on
        # each other made the run four times slower on 2 cores (27 s against 6 s for 20,000
        # steps). This process's own setting is put back: a notebook's kernel keeps it.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._code.train(words, config, progress, check)
        finally:
            torch.set_num_threads(threads)

    def close(self) -> None:
        """Student code ran in this process: there is nothing to stop."""
