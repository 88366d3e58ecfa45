"""Say what a wrong gradient most likely is: a code from a fixed vocabulary, a sentence
and a hint.

Pure functions over tensors: the student's value and the reference of one trial (and,
for the chain, the other keys and the branches of the chain), then a verdict over all
trials. Each test is exact up to the tolerance, and the order goes from the most to the
least specific; when nothing fits, the code is `unknown`: never a confident wrong guess.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from grader.calls import failures
from grader.calls.vocabulary import Code, Problem
from grader.exercises.trials import LECTURE

# The vocabulary's descriptions, in the order of calls.vocabulary.Code (a test holds the two to one list).

CODES: dict[Code, str] = {
    "not_implemented": "the function still raises NotImplementedError",
    "missing": "the module or the function does not exist, or a returned dict lacks the key",
    "exception": "the function raised an exception, or its module does not import",
    "timeout": "the call ran past its wall-time or CPU-time limit",
    "crashed": "the call ended its process (a segfault, os._exit, sys.exit, KeyboardInterrupt)",
    "out_of_memory": "the call ran past its memory limit",
    "output_limit": "the call printed more than its output limit",
    "left_processes": "the call left processes running",
    "too_large": "the call returned far more data than its gradients",
    "not_graded": "the submission's time budget ran out before this id was graded",
    "uses_autograd": "the function used autograd",
    "known_mistake": "a mistake the course declares for this exercise (its course file)",
    "ignores_upstream": "a gradient is right as if the upstream gradient were all ones: it is not multiplied in",
    "added_upstream": "a gradient is the local derivative plus the upstream gradient, where the two are multiplied",
    "aliased": "two returned gradients are one tensor (or share memory), so an in-place change of one changed both",
    "precision": "a gradient in float16 or bfloat16: right to that dtype's few digits, too few for the tolerance",
    "mutated_input": "the function modified one of its arguments",
    "not_a_tensor": "a gradient is not a tensor, or is not returned at all",
    "wrong_dtype": "a gradient is not a floating-point tensor",
    "not_finite": "a gradient holds inf or nan",
    "wrong_shape": "a gradient's shape differs from its input's",
    "all_zeros": "a gradient is all zeros where the answer is not",
    "sign": "a gradient is the negative of the answer",
    "scaled": "a gradient is the answer times a constant factor",
    "transposed": "a gradient is the transpose of the answer",
    "localized": "a gradient is right except in a pattern of entries",
    "missing_term": "a gradient misses exactly one branch of the chain",
    "propagated": "a gradient of the chain is wrong only because the gradients it is computed from are",
    "size_dependent": "a gradient is right at some sizes and wrong at others",
    "close_but_not_within_tolerance": "a gradient is close to the answer, but not within the tolerance",
    "unknown": "none of the above",
    "slow": "right, but the timing step found it many times slower than autograd, and the rubric takes points for it",
}

# A comparison's problem -> its code.
PROBLEM_CODES: dict[Problem, Code] = {
    "not_a_tensor": "not_a_tensor",
    "not_returned": "not_a_tensor",
    "missing_key": "missing",
    "wrong_dtype": "wrong_dtype",
    "wrong_shape": "wrong_shape",
    "not_finite": "not_finite",
}

CLOSE = 2e-2  # below this normalised error, a wrong gradient counts as close
CLOSE_HINT = "a small term is off: is eps (1e-5) left out, or n used where n - 1 belongs?"  # the lecture's batchnorm
CLOSE_HINT_COURSE = "a small term is off: compare your formula with the forward op, term by term (each constant too)"
LECTURE_N = LECTURE.shape.n  # the batch size students see in the lecture, and write out


@dataclass(frozen=True)
class Diagnosis:
    """What is most likely wrong with one gradient (or one call)."""

    code: Code
    message: str  # one sentence: what is wrong
    hint: str = ""  # what to try
    gradient: str = ""  # the gradient it is about, if one
    trial: str = ""  # the trial it was seen in, if one


@dataclass(frozen=True)
class Context:
    """What the diagnosis of one trial may use besides the two tensors."""

    n: int
    V: int
    trial: str
    targets: tuple[torch.Tensor, torch.Tensor] | None = None  # (rows, columns) of the target entries
    maxima: torch.Tensor | None = None  # (n, V) mask of the entries equal to their row's maximum
    repeated: torch.Tensor | None = None  # (V,) mask of the tokens that occur more than once in Xb
    once: torch.Tensor | None = None  # (V,) mask of the tokens that occur exactly once in Xb
    low_variance: torch.Tensor | None = None  # (H,) mask of the hidden units whose batch variance is below eps
    # The chain: the reference gradient through each consumer of this value, by op name.
    branches: Mapping[str, torch.Tensor] = field(default_factory=dict)
    # The chain: the local backward applied to the student's own upstream gradients, and
    # the keys those came from.
    from_students_upstream: torch.Tensor | None = None
    upstream_keys: tuple[str, ...] = ()
    # What the gradient would be if the upstream gradient were all ones, and that
    # upstream's name (functions that take one).
    without_upstream: torch.Tensor | None = None
    upstream_name: str = ""
    upstream: torch.Tensor | None = None  # the upstream gradient itself, float64
    dtype: torch.dtype = torch.float32  # what the student returned, before the comparison's float64
    tolerance: float = 1e-4
    course: bool = False  # a course's own exercise: no hint may name the lecture's batchnorm or its eps


def from_failure(kind: failures.FailureKind, message: str, trial: str = "") -> Diagnosis:
    """The diagnosis of a call that gave no value (failures.KINDS holds its code and hint)."""
    row = failures.kind(kind)
    return Diagnosis(row.code, message, row.hint, trial=trial)


def aliased(name: str, other: str, trial: str) -> Diagnosis:
    """A wrong gradient that is one tensor with another returned gradient."""
    mine, theirs = (k if k.startswith("d") else f"d{k}" for k in (name, other))
    return Diagnosis(
        "aliased",
        f"{name} and {other} are one tensor (they share memory): changing one in place changed both",
        f"give each its own tensor: {theirs} = {mine}.clone() instead of {theirs} = {mine}, then add to it",
        name,
        trial,
    )


def _close(a: torch.Tensor, b: torch.Tensor, scale: float, tolerance: float) -> bool:
    return float((a - b).abs().max()) <= tolerance * max(scale, 1e-30)


def from_problem(
    problem: Problem,
    message: str,
    name: str,
    trial: str,
    got: Any = None,
    expected: Any = None,
    tolerance: float = 1e-4,
    scale: float = 0.0,
) -> Diagnosis:
    """The diagnosis of a value that could not be compared (compare.py's message says
    why); for a wrong shape, whether its values are the answer transposed, unsummed or
    without the kept dimension."""
    code = PROBLEM_CODES[problem]
    hint = {
        "wrong_shape": "each gradient has exactly the shape of the input it belongs to",
        "not_a_tensor": "return the gradients as tensors, in the order of the docstring",
        "missing": "return every key the docstring lists, spelled as there",
        "wrong_dtype": "an integer tensor slipped in: multiply by a float or call .float()",
        "not_finite": "look for a division by zero, or log/exp of an extreme value",
    }[code]
    if code == "wrong_shape" and isinstance(got, torch.Tensor) and got.is_floating_point():
        return _reshaped(name, got.detach().double(), expected, message, trial, tolerance, scale) or Diagnosis(
            code, message, hint, name, trial
        )
    return Diagnosis(code, message, hint, name, trial)


def _reshaped(
    name: str, got: torch.Tensor, expected: torch.Tensor, message: str, trial: str, tolerance: float, scale: float = 0.0
) -> Diagnosis | None:
    """A wrong shape whose values are right once transposed, summed or reshaped, with the
    fix that goes from the student's shape to the expected one. `scale`: the size of the
    terms that cancel, for a gradient that is zero in theory (compare.py)."""
    size = max(float(expected.abs().max()), scale, 1e-30)
    if got.dim() == 2 and got.shape == expected.shape[::-1] and _close(got.T, expected, size, tolerance):
        return Diagnosis(
            "transposed",
            f"{name} is the transpose of the answer (shape {tuple(got.shape)})",
            "swap the operands of the matmul (A.T @ B instead of B.T @ A)",
            name,
            trial,
        )
    if got.numel() == expected.numel() and _close(got.reshape(expected.shape), expected, size, tolerance):
        return Diagnosis("wrong_shape", message, _regrouped(tuple(got.shape), tuple(expected.shape)), name, trial)
    for dim in range(got.dim()):
        if got.shape[dim] == 1:
            continue  # summing over it changes nothing: _regrouped above says what does
        for keep in (True, False):
            summed = got.sum(dim, keepdim=keep)
            if summed.shape == expected.shape and _close(summed, expected, size, tolerance):
                how = f".sum({dim}, keepdim=True)" if keep else f".sum({dim})"
                return Diagnosis(
                    "wrong_shape",
                    message,
                    f"the values are right once summed over dimension {dim}: {how}, to shape {tuple(expected.shape)}",
                    name,
                    trial,
                )
    return None


def _regrouped(got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    """The fix when the values are right and only their grouping differs."""
    if tuple(d for d in got if d != 1) == tuple(d for d in expected if d != 1):
        if len(got) > len(expected):
            return (
                f"the values are right, with a dimension too many: drop keepdim=True (or squeeze it) to get "
                f"shape {expected}"
            )
        return f"the values are right: keep the dimension you sum over (keepdim=True) to get shape {expected}"
    return f"the values are right, grouped differently: .view{expected}"


def diagnose_trial(name: str, got: torch.Tensor, expected: torch.Tensor, context: Context) -> Diagnosis:
    """What is wrong with `got` against `expected` (both float64, same shape) in one trial."""
    tol, trial = context.tolerance, context.trial
    size = max(float(expected.abs().max()), float(got.abs().max()), 1e-30)
    # In the chain, a wrong key that follows from wrong keys before it is best fixed there.
    upstream = context.from_students_upstream
    if context.upstream_keys and upstream is not None and _close(got, upstream, size, tol):
        keys = ", ".join(context.upstream_keys)
        return Diagnosis(
            "propagated",
            f"{name} follows correctly from your {keys}, which {'is' if len(context.upstream_keys) == 1 else 'are'} wrong",
            f"fix {context.upstream_keys[0]} first: {name} will follow",
            name,
            trial,
        )
    for branch, contribution in context.branches.items():
        if _close(got, expected - contribution, size, tol):
            return Diagnosis(
                "missing_term",
                f"{name} misses the gradient that flows back through {branch}",
                f"{name} reaches the output along more than one path: add the gradient through {branch} to the others",
                name,
                trial,
            )
    ignored = _ignores_upstream(name, got, context, size)
    if ignored is not None:
        return ignored
    added = _added_upstream(name, got, context, size)
    if added is not None:
        return added
    error = float((got - expected).abs().max()) / max(float(expected.abs().max()), 1e-30)
    if context.dtype in (torch.float16, torch.bfloat16) and error < CLOSE:
        kind = str(context.dtype).removeprefix("torch.")
        return Diagnosis(
            "precision",
            f"{name} is {kind}: right to its 3 or so digits (relative error {error:.1e}), too few for "
            f"the tolerance {tol:.0e}",
            "compute and return it in float32, the dtype of the inputs (no .half())",
            name,
            trial,
        )
    if not got.any():
        return Diagnosis(
            "all_zeros",
            f"{name} is all zeros, and the answer is not",
            "was a gradient buffer (torch.zeros_like) returned before anything was added to it?",
            name,
            trial,
        )
    if _close(got, -expected, size, tol):
        return Diagnosis(
            "sign",
            f"{name} has the wrong sign: it is the negative of the answer",
            "a minus sign too many or too few in the chain rule",
            name,
            trial,
        )
    if got.dim() == 2 and got.shape[0] == got.shape[1] and _close(got, expected.T, size, tol):
        return Diagnosis(
            "transposed",
            f"{name} is the transpose of the answer",
            "swap the operands of the matmul, or transpose the result",
            name,
            trial,
        )
    # A factor that has a name (n, 2, 32/n, ...) says the most: against the answer, else
    # against the answer without the upstream gradient (two faults); a bare number last.
    scaled = _factor(got, expected, tol, context.n)
    if scaled is not None and scaled.named:
        return Diagnosis("scaled", f"{name} is off by a factor {scaled.words}", scaled.hint, name, trial)
    ignored = _ignores_upstream_and_factor(name, got, context)
    if ignored is not None:
        return ignored
    if scaled is not None:
        return Diagnosis("scaled", f"{name} is off by a factor {scaled.words}", scaled.hint, name, trial)
    localized = _localized(name, got, expected, context, size)
    if localized:
        return localized
    if error < CLOSE:
        return Diagnosis(
            "close_but_not_within_tolerance",
            f"{name} is close to the answer but not within the tolerance (relative error {error:.1e})",
            CLOSE_HINT_COURSE if context.course else CLOSE_HINT,
            name,
            trial,
        )
    return Diagnosis(
        "unknown",
        f"{name} is wrong (relative error {error:.1e}) in no pattern the grader knows",
        "compare your formula with the forward op, term by term",
        name,
        trial,
    )


def _ignores_upstream(name: str, got: torch.Tensor, context: Context, size: float) -> Diagnosis | None:
    """Right as if the upstream gradient were all ones."""
    if context.without_upstream is None or not _close(got, context.without_upstream, size, context.tolerance):
        return None
    up = context.upstream_name
    return Diagnosis("ignores_upstream", *_upstream_words(name, up), name, context.trial)


def _ignores_upstream_and_factor(name: str, got: torch.Tensor, context: Context) -> Diagnosis | None:
    """Right as if the upstream gradient were all ones, times a named factor: two faults
    (`-1.0/32` where the lecture has `-1.0/n`, and dloss left out)."""
    if context.without_upstream is None:
        return None
    factor = _factor(got, context.without_upstream, context.tolerance, context.n)
    if factor is None or not factor.named:
        return None
    message, hint = _upstream_words(name, context.upstream_name)
    return Diagnosis(
        "ignores_upstream",
        f"{message}; and off by a factor {factor.words} besides",
        f"{hint}; and {factor.hint}",
        name,
        context.trial,
    )


def _upstream_words(name: str, up: str) -> tuple[str, str]:
    return (
        f"{name} is right as if {up} were all ones: {up} is not multiplied in",
        f"multiply by {up}, the gradient that flows in (the chain rule: local derivative times {up})",
    )


def _added_upstream(name: str, got: torch.Tensor, context: Context, size: float) -> Diagnosis | None:
    """The local derivative plus the upstream gradient, where the chain rule multiplies
    them (`dh + (1 - h**2)`): for a gradient of the upstream's own shape."""
    local, upstream = context.without_upstream, context.upstream
    if local is None or upstream is None or upstream.shape != got.shape or local.shape != got.shape:
        return None
    if not _close(got, local + upstream, size, context.tolerance):
        return None
    up = context.upstream_name
    return Diagnosis(
        "added_upstream",
        f"{name} is the local derivative plus {up}: {up} is added where the chain rule multiplies",
        f"multiply the local derivative by {up} (local derivative * {up}), do not add them",
        name,
        context.trial,
    )


@dataclass(frozen=True)
class Factor:
    """A constant factor between two tensors, in words, with what it suggests."""

    words: str
    hint: str
    named: bool  # n, 1/n, 2, 32/n, ...: not a bare number


def _factor(got: torch.Tensor, expected: torch.Tensor, tol: float, n: int) -> Factor | None:
    """The factor c when got = c * expected within the tolerance: never 1 or -1 (the
    answer, or its sign), and not within 1e-2 of 1 unless it is a named factor such as
    n/(n - 1): a factor that close to 1 is no factor."""
    norm = float((expected * expected).sum())
    if norm == 0:
        return None
    c = float((got * expected).sum()) / norm
    if abs(c) < 1e-12 or abs(abs(c) - 1) < 1e-6:
        return None
    size = max(float(expected.abs().max()) * abs(c), 1e-30)
    if not _close(got, c * expected, size, tol * 10):
        return None
    named = _named_factor(c, n)
    if named is not None:
        return Factor(*named, named=True)
    if abs(c - 1) < 1e-2:
        return None
    return Factor(f"{c:.4g}", "a constant factor is off: check every scale in the formula (1/n, 2, -0.5, ...)", False)


def _named_factor(c: float, n: int) -> tuple[str, str] | None:
    """The factor in words, and what it suggests, naming n, n - 1, 2 and their ratios,
    and the lecture's batch size over this one (a 32 written for n), when it is one of
    them (and not 1: at n = 2, n - 1 is no factor)."""
    L = LECTURE_N
    named = [
        (n, f"n = {n}", "the mean's 1/n is missing"),
        (1 / n, f"1/n = 1/{n}", "divided by n once too often: is there a .mean() and a 1/n?"),
        (n - 1, f"n - 1 = {n - 1}", "the 1/(n-1) of the variance is missing"),
        (1 / (n - 1) if n > 1 else 0, f"1/(n - 1) = 1/{n - 1}", "divided by n - 1 once too often"),
        ((n - 1) / n, f"(n - 1)/n = {n - 1}/{n}", "divided by n where Bessel's correction divides by n - 1"),
        (n / (n - 1) if n > 1 else 0, f"n/(n - 1) = {n}/{n - 1}", "divided by n - 1 where it should be n"),
        (L / n, f"{L}/n = {L}/{n}", f"the lecture's batch size {L} is written where n belongs"),
        (n / L, f"n/{L} = {n}/{L}", f"the lecture's batch size {L} is written where n belongs"),
        (2, "2", "a factor 2 too many (d(x**2)/dx = 2x, once)"),
        (0.5, "1/2", "a factor 2 is missing: d(x**2)/dx = 2x; d(x**-0.5)/dx = -0.5 x**-1.5"),
        (-2, "-2", "a factor 2 too many, and the sign flipped"),
        (-0.5, "-1/2", "the sign is flipped and a factor 2 is missing"),
    ]
    for value, words, hint in named:
        if value and abs(value - 1) > 1e-9 and abs(c - value) <= 1e-3 * abs(value):
            return words, hint
    return None


def _localized(name: str, got: torch.Tensor, expected: torch.Tensor, context: Context, size: float) -> Diagnosis | None:
    """Right except in a recognisable set of entries: the targets, the maxima, one row or
    one column."""
    if got.dim() != 2 or got.numel() < 4:
        return None
    wrong = (got - expected).abs() > context.tolerance * size
    if not wrong.any() or wrong.all():
        return None
    trial = context.trial
    if context.targets is not None and got.shape == (context.n, context.V):
        mask = torch.zeros_like(wrong)
        mask[context.targets] = True
        if not (wrong & ~mask).any():
            return Diagnosis(
                "localized",
                f"{name} is right except at the target entries [range(n), Yb]",
                "check what happens at the targets: the -1, the 1/n, the dloss there",
                name,
                trial,
            )
    if context.maxima is not None and got.shape == context.maxima.shape and not (wrong & ~context.maxima).any():
        tied = bool((context.maxima.sum(1) > 1).any())
        hint = (
            (
                "where a row's maximum occurs several times, max picks one index: send the gradient there only "
                "(logits.max(1).indices)"
            )
            if tied
            else "check the gradient sent to each row's maximum"
        )
        return Diagnosis(
            "localized", f"{name} is right except at the entries that hold their row's maximum", hint, name, trial
        )
    rows, columns = wrong.any(1).nonzero().flatten(), wrong.any(0).nonzero().flatten()
    low = context.low_variance
    if low is not None and low.any() and got.shape[-1] == low.numel() and bool(low[columns].all()):
        return Diagnosis(
            "localized",
            f"{name} is right except in the columns whose batch variance is below eps",
            "there the eps decides: is the 1e-5 in (bnvar + 1e-5) left out?",
            name,
            trial,
        )
    once = context.once
    repeated = context.repeated
    if (
        once is not None
        and repeated is not None
        and got.shape[0] == context.V
        and bool(repeated[rows].all())
        and once.any()
    ):
        return Diagnosis(
            "localized",
            f"{name} is right except in the rows of tokens that occur more than once in Xb",
            "every occurrence must add its gradient: dC[Xb] += demb keeps only one of them; use index_add_",
            name,
            trial,
        )
    if len(rows) == 1 and got.shape[0] > 1:
        return Diagnosis(
            "localized",
            f"{name} is right except in row {int(rows[0])}",
            "one row is treated differently: an off-by-one in a loop?",
            name,
            trial,
        )
    if len(columns) == 1 and got.shape[1] > 1:
        return Diagnosis(
            "localized",
            f"{name} is right except in column {int(columns[0])}",
            "one column is treated differently: an off-by-one in a loop?",
            name,
            trial,
        )
    return None


SIZE_HINT = (
    "is a size hard-coded (32 for n, 27 for V, 3 for B, 10 for E, 64 for H)? Take sizes from the tensors' shapes"
)


# What a wrong trial can be without a hard-coded size, even where other trials are right.
SIZE_FREE = frozenset({"propagated", "precision", "close_but_not_within_tolerance"})


def over_trials(
    name: str,
    per_trial: Sequence[tuple[str, bool, Diagnosis | None]],
    quirky: Iterable[str],
    size_hint: str = SIZE_HINT,
    quirk_hints: bool = True,
) -> Diagnosis | None:
    """One diagnosis for a gradient from its (trial label, passed, diagnosis) triples:
    size_dependent when it is right at a plain trial (no quirk) and wrong at another;
    otherwise the first wrong trial's, with the quirk's hint when only quirky trials fail.
    A wrong shape is never a quirk's doing. Some wrong trials say why on their own, at
    whatever size: a gradient that only follows from wrong ones before it (propagated)
    is best fixed there, and one that misses the tolerance by little (precision, close)
    may meet it by chance in a small trial. `quirk_hints`: whether a quirk's hint, which
    names the lecture's batchnorm and maxima, may replace the diagnosis's own (not for a
    course's exercise)."""
    quirky = set(quirky)
    wrong = [(label, d) for label, ok, d in per_trial if not ok]
    if not wrong:
        return None
    wrong_labels = {label for label, _ in wrong}
    right_plain = [label for label, ok, _ in per_trial if ok and label not in quirky | wrong_labels]
    sized = lambda label, d: label not in quirky or (d is not None and d.code == "wrong_shape")  # noqa: E731
    wrong_plain = [(label, d) for label, d in wrong if sized(label, d)]
    # The first wrong trial that shows a known pattern says the most; but a pattern that a
    # quirky trial alone shows, where plain trials are wrong in no known pattern, is the
    # quirk's doing (a huge 1/sqrt(var) makes many formulas look scaled): unknown then.
    telling = wrong_plain or wrong
    label, first = next(((lb, d) for lb, d in telling if d is not None and d.code != "unknown"), telling[0])
    # Two faults, one of them at some sizes only (an ignored dloss, and a hard-coded n that
    # the lecture's size hides): the trial that shows both names both.
    both = next(
        (
            d
            for _, d in wrong_plain
            if first and d and d.code == first.code and d.message.startswith(first.message + ";")
        ),
        None,
    )
    if first is not None and both is not None:
        return replace(both, hint=f"{first.hint}; and {size_hint}")
    if right_plain and wrong_plain and all(d is not None and d.code in SIZE_FREE for _, d in wrong):
        return first
    if right_plain and wrong_plain:
        seen = wrong_plain[0][1]
        return Diagnosis(
            "size_dependent",
            f"{name} is right at {right_plain[0]} but not at {wrong_plain[0][0]}"
            + (f": {seen.message}" if seen and seen.message else ""),
            size_hint,
            name,
            wrong_plain[0][0],
        )
    if first is not None and not wrong_plain and quirk_hints and _quirk_hint(label):
        return replace(first, hint=_quirk_hint(label))
    return first


def _quirk_hint(label: str) -> str:
    if "small variance" in label:
        return "it goes wrong only where the batch variance is below eps: is the 1e-5 in (bnvar + 1e-5) left out?"
    if "tied maxima" in label:
        return "it goes wrong only where a row's maximum occurs several times: max picks one index, send the gradient there only"
    if "upstream ~" in label:
        return "it goes wrong when the upstream gradient follows bnraw: check the variance term, and n - 1 vs n"
    return ""


def aggregate(reports: Iterable[Mapping[str, Any]]) -> dict[str, Counter[str]]:
    """Per exercise id, how many reports (JSON reports, as reports.to_json makes them)
    had each diagnosis code."""
    counts: dict[str, Counter[str]] = {}
    for report in reports:
        for item in report["items"]:
            if item.get("diagnosis"):
                counts.setdefault(item["id"], Counter())[item["diagnosis"]["code"]] += 1
    return counts
