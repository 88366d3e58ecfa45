"""Autograd in the grader's own process (--no-sandbox).

In a worker, the seal decides whether a call used autograd (sandbox/seal.py). With
--no-sandbox student code runs here, beside the grader's own autograd, and nothing is
confined: `InProcessGuard` gives the same verdicts to honest code, around each call. It
reads autograd's node counter before and after (a call that recorded any graph moved
it), refuses torch's gradient operators at the dispatcher while the call runs, and counts
the watched forward operators' evaluations there. Code written to get round it can: the
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
    def watching(self, forward_ad: bool = True) -> Iterator[InProcessGuard]:
        """The call's span. `forward_ad=False` where forward_ad_refused() already holds
        for a longer span (a training run: registering kernels at each step cost more
        than the step)."""
        before = torch._C._autograd._get_sequence_nr()
        was = torch.is_grad_enabled()
        torch.set_grad_enabled(False)
        try:
            with self, forward_ad_refused(self.refused) if forward_ad else contextlib.nullcontext():
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


@contextlib.contextmanager
def forward_ad_refused(refused: list[str]) -> Iterator[None]:
    """Forward-mode AD's dual tensors are made above the dispatcher's Python key, where
    the guard's mode sees nothing: their operators refuse at their own keys for the span,
    each refusal written to `refused`. Reverse mode (the grader's own checks) is untouched."""

    def refusing(name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            what = f"calls torch's forward-mode AD operator {name}"
            refused.append(what)
            raise AutogradUnavailable(f"autograd is switched off while grading: your code {what}; {ADVICE}")

        return refuse

    with warnings.catch_warnings():  # "overriding a previously registered kernel": that is the point
        warnings.simplefilter("ignore")
        library = torch.library.Library("aten", "IMPL")
        for name in differentiators.forward_ad_operators():
            for key in differentiators.kernel_keys(name):
                library.impl(name.split("::", 1)[1], refusing(name), key)
    try:
        yield
    finally:
        library._destroy()
