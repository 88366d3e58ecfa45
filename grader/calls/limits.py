"""The limits every call of student code runs under, when it runs in a worker process,
and the caps of a whole submission.

Their defaults live in the rubric's [limits] section (grader/rubric.toml), written
there once; command-line flags override them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Per call of a student's function (its module's import counts as a call)."""

    wall_time: float  # seconds before the worker is stopped
    cpu_time: float  # seconds of CPU time before the worker is stopped
    memory: int  # MB of address space the worker may take beyond what torch maps
    output: int  # KB the function may print (stdout and stderr together)

    def describe(self) -> str:
        return (
            f"{self.wall_time:g} s wall time, {self.cpu_time:g} s CPU time, {self.memory} MB memory, "
            f"{self.output} KB output per call"
        )


LIMIT_HELP = {
    "wall_time": "seconds a call may run before it is stopped",
    "cpu_time": "seconds of CPU time a call may use",
    "memory": "MB of memory a worker may take on top of torch's own",
    "output": "KB a call may print",
}
BUDGET_HELP = "seconds all the calls of one submission may take together; the ids not reached by then are not graded"

# Per submission, whatever the rubric says: a backward pass needs a handful of files
# open, and writes nothing but what it prints.
OPEN_FILES = 64
