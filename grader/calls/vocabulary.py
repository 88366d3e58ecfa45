"""The vocabularies that travel between the layers, as types mypy checks at each use: a
failure's kind, a diagnosis code, a comparison's problem, an id's status. Each has one
table of what it means, in the module that gives it (failures.KINDS, diagnosis.CODES,
diagnosis.PROBLEM_CODES, docs/platforms.md's statuses); a test holds each table to its list."""

from __future__ import annotations

from typing import Literal

# The kinds, in the order of failures.KINDS (a test holds the two to one list).
FailureKind = Literal[
    "missing_module",
    "import_error",
    "missing_function",
    "not_implemented",
    "exception",
    "mutated_input",
    "uses_autograd",
    "bad_return",
    "too_large",
    "output_limit",
    "memory",
    "exited",
    "timeout",
    "cpu_time",
    "crashed",
    "left_processes",
    "not_graded",
]

# The diagnosis codes, in the order of diagnosis.CODES (a test holds the two to one list).
Code = Literal[
    "not_implemented",
    "missing",
    "exception",
    "timeout",
    "crashed",
    "out_of_memory",
    "output_limit",
    "left_processes",
    "too_large",
    "not_graded",
    "uses_autograd",
    "known_mistake",
    "ignores_upstream",
    "added_upstream",
    "aliased",
    "precision",
    "mutated_input",
    "not_a_tensor",
    "wrong_dtype",
    "not_finite",
    "wrong_shape",
    "all_zeros",
    "sign",
    "scaled",
    "transposed",
    "localized",
    "missing_term",
    "propagated",
    "size_dependent",
    "close_but_not_within_tolerance",
    "unknown",
    "slow",
]

# Why a returned value is not the answer, from the first check it fails.
Problem = Literal[
    "not_a_tensor", "wrong_dtype", "wrong_shape", "not_finite", "not_close", "not_returned", "missing_key"
]

# What an id's grade says, in a word.
Status = Literal["passed", "partial", "failed", "not_implemented", "error", "missing", "not_graded"]
