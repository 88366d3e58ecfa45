"""The failure vocabulary: every way a call of student code can give no value to grade,
with what each means for the grade. One table; the sandbox names failures by kind, and
scoring, diagnosis and the retry rules read the rest from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from grader.calls.vocabulary import Code, FailureKind, Status


@dataclass(frozen=True)
class Kind:
    """One way a call can fail."""

    description: str  # what happened, for the documentation
    code: Code  # the diagnosis it gives
    status: Status  # the status of the id it costs
    hint: str  # what to try, for the student
    retried: bool = False  # the other trials still run: it may happen at some sizes only
    final_at_import: bool = False  # a module that fails so while importing is not imported again


CRASH_HINT = "return the gradient; do not exit or kill the process"
EXCEPTION_HINT = "see every trial, and debug it in this process: backprop-ninja check {id} --no-sandbox"
TIMEOUT_HINT = "look for an endless loop, or a loop over every entry"


KINDS: dict[FailureKind, Kind] = {
    "missing_module": Kind("the module file is not in the submission", "missing", "missing",
                           "name each module and function as the stubs do", final_at_import=True),
    "import_error": Kind("the code does not compile, or its module does not import", "exception", "error",
                         "fix the line it names: the code must run before its functions can be graded",
                         final_at_import=True),
    "missing_function": Kind("the module has no such function", "missing", "missing",
                             "name each function as its stub does"),
    "not_implemented": Kind("the function still raises NotImplementedError", "not_implemented", "not_implemented",
                            ""),
    "exception": Kind("the function raised an exception", "exception", "error", EXCEPTION_HINT, retried=True),
    "mutated_input": Kind("the function modified one of its arguments", "mutated_input", "failed",
                          "work on a copy (x.clone()) or use out-of-place operations"),
    "uses_autograd": Kind("the function used autograd", "uses_autograd", "failed",
                          "write the chain rule by hand: no .backward(), torch.autograd or torch.func"),
    "bad_return": Kind("the function returned a value the grader cannot use", "propagated", "failed",
                       "fix ex4.mlp_backward first: the training follows from its gradients"),
    "too_large": Kind("the function returned far more data than its gradients", "too_large", "failed",
                      "return only the gradients, each with the shape of its input"),
    "output_limit": Kind("the function printed more than the output limit", "output_limit", "error",
                         "remove the prints"),
    "memory": Kind("the function ran out of memory", "out_of_memory", "error",
                   "no tensor here needs more than a few MB", final_at_import=True),
    "exited": Kind("the function ended the process (sys.exit) or raised KeyboardInterrupt", "crashed", "error",
                   CRASH_HINT, final_at_import=True),
    "timeout": Kind("the call ran past the wall-time limit", "timeout", "error", TIMEOUT_HINT, final_at_import=True),
    "cpu_time": Kind("the call used more than the CPU-time limit", "timeout", "error", TIMEOUT_HINT,
                     final_at_import=True),
    "crashed": Kind("the process running the function died", "crashed", "error", CRASH_HINT, final_at_import=True),
    "left_processes": Kind("the function left processes running", "left_processes", "error",
                           "a backward pass needs no other process"),
    "not_graded": Kind("the submission's time budget ran out before this id was reached", "not_graded", "not_graded",
                       "make the functions that ran out of time faster: each id gets graded once there is time"),
}  # fmt: skip


KIND_NAMES: tuple[FailureKind, ...] = get_args(FailureKind)


def kind(name: FailureKind) -> Kind:
    """The row of a failure kind."""
    return KINDS[name]


def named(text: str) -> FailureKind:
    """The kind a worker's reply names; one it cannot name (a forged reply) counts as an
    exception."""
    return next((name for name in KIND_NAMES if name == text), "exception")


class SubmissionError(ValueError):
    """A submission that cannot be unpacked, with the reason."""
