"""The limits every call of student code runs under, when it runs in a worker process,
and the caps of a whole submission.

Their defaults live in the rubric's [limits] section (grader/rubric.toml), written
there once; command-line flags override them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


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

# A training run (exercise 4) may take a minute for its set-up and the calibration at its
# end, and 3 ms a step: a right mlp_backward takes well under 1 ms, so the lecture's 200,000
# steps take 1 to 2 minutes. Every front end, the students' notebook and the docs state it
# from here.
TRAINING_SET_UP = 60.0  # seconds
TRAINING_STEP = 0.003  # seconds a step
# Seconds past its limit before a run is stopped from outside: the run stops itself at its
# limit, between two steps (exercises/training.py); this is for a step that never ends.
GRACE = 30.0
# How a student gives a run more time, in each front end ({seconds}: what to give).
MORE_TIME = {
    "cli": "backprop-ninja train --timeout {seconds}",
    "notebook": "train_network(mlp_backward, timeout={seconds})",
}


def training_limit(steps: int) -> float:
    """The seconds a training run of `steps` steps may take, unless it is given more."""
    return TRAINING_SET_UP + TRAINING_STEP * steps


def training_limits(limits: Limits, seconds: float) -> Limits:
    """The worker's limits for a run that stops itself after `seconds`: GRACE more, for a
    call of mlp_backward that never returns (the worker runs one thread: CPU time is wall
    time)."""
    return replace(limits, wall_time=seconds + GRACE, cpu_time=seconds + GRACE)


TRAINING_LIMIT_HELP = (
    f"seconds the run may take (default: {TRAINING_SET_UP:g} s and {TRAINING_STEP * 1e3:g} ms a step, "
    f"{training_limit(200_000):g} s for 200,000 steps)"
)
