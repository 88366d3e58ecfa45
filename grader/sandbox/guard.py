"""Autograd in the grader's own process (--no-sandbox).

In a worker, the seal decides whether a call used autograd (sandbox/seal.py). With
--no-sandbox student code runs here, beside the grader's own autograd, and nothing is
confined: `InProcessGuard` gives the same verdicts to honest code, around each call. It
reads autograd's node counter before and after (a call that recorded any graph moved
it), refuses torch's gradient operators at the dispatcher while the call runs, and counts
the watched forward operators' evaluations there. A training run, whose steps are too
quick to bear a Python dispatch mode on every operator, has them refuse for its whole
span instead (`Refusal`). Code written to get round either can: the
docs/threat-model.md says so.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from grader.sandbox import differentiators

ADVICE = "write the gradient by hand"
RECORDED = "records an autograd graph"


@differentiators.light
class InProcessGuard(TorchDispatchMode):
    """Around one call of student code in this process: refuses torch's gradient
    operators, counts the elements the watched forward operators are evaluated on, and
    tells afterwards whether the call recorded an autograd graph."""

    def __init__(self, watch: Iterable[str] = (), refused: list[str] | None = None):
        super().__init__()
        self.watch = frozenset(watch)
        self.evaluations: dict[str, int] = {}
        self.refused = [] if refused is None else refused
        self.nodes = 0
        self._gradients = differentiators.gradient_operators()

    @contextlib.contextmanager
    def watching(self) -> Iterator[InProcessGuard]:
        """The call's span."""
        before = torch._C._autograd._get_sequence_nr()
        was = torch.is_grad_enabled()
        torch.set_grad_enabled(False)
        try:
            with self, forward_ad_refused(self.refused):
                yield self
        finally:
            torch.set_grad_enabled(was)
            self.nodes = torch._C._autograd._get_sequence_nr() - before

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        name = func.name()
        if name in self._gradients or differentiators.packet(name) in self._gradients:
            what = f"calls torch's gradient operator {name}"
            self.refused.append(what)
            raise AutogradUnavailable(f"autograd is switched off while grading: your code {what}; {ADVICE}")
        op = differentiators.packet(name)
        if op in self.watch:
            first = next((arg for arg in args if isinstance(arg, torch.Tensor)), None)
            if first is not None:
                self.evaluations[op] = self.evaluations.get(op, 0) + first.numel()
        return func(*args, **(kwargs or {}))

    @property
    def evidence(self) -> list[str]:
        return [*self.refused, *([RECORDED] if self.nodes > 0 else [])]


class AutogradUnavailable(RuntimeError):
    """Raised inside student code at a gradient operator, in the grader's own process."""


class Refusal:
    """Torch operators refusing at every key they have a kernel at, for a span: each
    refusal is written to `refused` and raises AutogradUnavailable in the code that called
    it. `lifted()` lets the grader's own autograd run in the middle of the span."""

    def __init__(self, operators: Iterable[str], refused: list[str]):
        self.operators = tuple(operators)
        self.refused = refused
        self._libraries: dict[str, Any] = {}

    def __enter__(self) -> None:
        with warnings.catch_warnings():  # "overriding a previously registered kernel": that is the point
            warnings.simplefilter("ignore")
            for name in self.operators:
                namespace, _, op = name.partition("::")
                if namespace not in self._libraries:
                    self._libraries[namespace] = torch.library.Library(namespace, "IMPL")
                for key in differentiators.kernel_keys(name):
                    try:
                        self._libraries[namespace].impl(op, self._refusing(name), key)
                    except RuntimeError:  # a key that takes no kernel from Python
                        continue

    def __exit__(self, *exc: object) -> None:
        for library in self._libraries.values():
            library._destroy()
        self._libraries = {}

    @contextlib.contextmanager
    def lifted(self) -> Iterator[None]:
        """The operators as torch has them, for the span of the with block."""
        self.__exit__()
        try:
            yield
        finally:
            self.__enter__()

    def _refusing(self, name: str) -> Any:
        kind = "forward-mode AD operator" if name in differentiators.forward_ad_operators() else "gradient operator"

        def refuse(*args: Any, **kwargs: Any) -> Any:
            what = f"calls torch's {kind} {name}"
            self.refused.append(what)
            raise AutogradUnavailable(f"autograd is switched off while grading: your code {what}; {ADVICE}")

        return refuse


def forward_ad_refused(refused: list[str]) -> Refusal:
    """Forward-mode AD's dual tensors are made above the dispatcher's Python key, where
    the guard's mode sees nothing: their operators refuse at their own keys for the span.
    Reverse mode (the grader's own checks) is untouched."""
    return Refusal(differentiators.forward_ad_operators(), refused)
