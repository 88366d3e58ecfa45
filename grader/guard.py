"""Autograd in the grader's own process (--no-sandbox), and in the source of a student's
function.

In a worker, the seal decides whether a call used autograd (sandbox/seal.py). With
--no-sandbox student code runs here, beside the grader's own autograd, and nothing is
confined: `InProcessGuard` gives the same verdicts to honest code, around each call. It
reads autograd's node counter before and after (a call that recorded any graph moved
it), refuses torch's gradient operators at the dispatcher while the call runs, and counts
the watched forward operators' evaluations there. Code written to get round it can: the
README says so.

The source scan reads a student's function without running it, and adds the uses a run
may not reach (a branch not taken), named as the student wrote them.
"""

from __future__ import annotations

import ast
import contextlib
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from grader import differentiators
from grader.sources import last_definition

ADVICE = "write the gradient by hand"
RECORDED = "records an autograd graph"


@differentiators.light
class InProcessGuard(TorchDispatchMode):
    """Around one call of student code in this process: refuses torch's gradient
    operators, counts evaluations of the watched (operator, shape) pairs, and tells
    afterwards whether the call recorded an autograd graph."""

    def __init__(self, watch: Iterable[tuple[str, tuple[int, ...]]] = ()):
        super().__init__()
        self.watch = frozenset(watch)
        self.evaluations: dict[str, int] = {}
        self.refused: list[str] = []
        self.nodes = 0
        self._gradients = differentiators.gradient_operators()

    @contextlib.contextmanager
    def watching(self) -> Iterator[InProcessGuard]:
        before = torch._C._autograd._get_sequence_nr()
        was = torch.is_grad_enabled()
        torch.set_grad_enabled(False)
        try:
            with self, self._no_forward_ad():
                yield self
        finally:
            torch.set_grad_enabled(was)
            self.nodes = torch._C._autograd._get_sequence_nr() - before

    @contextlib.contextmanager
    def _no_forward_ad(self) -> Iterator[None]:
        """Forward-mode AD's dual tensors are made above the dispatcher's Python key, where
        this mode sees nothing: their operators refuse at their own keys, for the call."""
        with warnings.catch_warnings():  # "overriding a previously registered kernel": that is the point
            warnings.simplefilter("ignore")
            library = torch.library.Library("aten", "IMPL")
            for name in differentiators.forward_ad_operators():
                for key in differentiators.kernel_keys(name):
                    library.impl(name.split("::", 1)[1], self._refusing(name), key)
        try:
            yield
        finally:
            library._destroy()

    def _refusing(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            what = f"calls torch's forward-mode AD operator {name}"
            self.refused.append(what)
            raise AutogradUnavailable(f"autograd is switched off while grading: your code {what}; {ADVICE}")

        return refuse

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        name = func.name()
        if name in self._gradients or differentiators.packet(name) in self._gradients:
            what = f"calls torch's gradient operator {name}"
            self.refused.append(what)
            raise AutogradUnavailable(f"autograd is switched off while grading: your code {what}; {ADVICE}")
        if self.watch:
            op = differentiators.packet(name)
            for arg in args:
                if isinstance(arg, torch.Tensor) and (op, tuple(arg.shape)) in self.watch:
                    self.evaluations[op] = self.evaluations.get(op, 0) + 1
                    break
        return func(*args, **(kwargs or {}))

    @property
    def evidence(self) -> list[str]:
        return [*self.refused, *([RECORDED] if self.nodes > 0 else [])]


class AutogradUnavailable(RuntimeError):
    """Raised inside student code at a gradient operator, in the grader's own process."""


# What the source scan looks for: attribute or name -> what it means.
_CALLS = {
    "backward": "calls .backward()",
    "grad": "calls torch.autograd.grad",
    "enable_grad": "switches grad mode back on (enable_grad)",
    "set_grad_enabled": "switches grad mode back on (set_grad_enabled)",
    "requires_grad_": "sets requires_grad",
    "make_dual": "uses forward-mode AD (make_dual)",
}
_MODULES = {
    "func": "uses a torch.func transform",
    "functorch": "uses functorch",
    "functional": "uses torch.autograd.functional",
}


def autograd_in_source(path: Path, function: str) -> list[str]:
    """What the source of `function` in the file at `path` does with autograd, read
    without running it. Comments and strings do not count."""
    found = last_definition(path, function)
    if found is None:
        return []
    return list(dict.fromkeys(meaning for sub in ast.walk(found.function) for meaning in _meaning(sub)))


def _meaning(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        off = node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is False
        if name == "grad" and not _under(node.func, "autograd"):
            return []  # torch.func.grad is found as a torch.func use; a plain grad() is anyone's
        if name in _CALLS and not (off and name in ("set_grad_enabled", "requires_grad_")):
            return [_CALLS[name]]
        keywords = [k for k in node.keywords if k.arg == "requires_grad"]
        if keywords and not (isinstance(keywords[0].value, ast.Constant) and keywords[0].value.value is False):
            return ["creates a tensor with requires_grad=True"]
    if (
        isinstance(node, ast.Attribute)
        and node.attr in _MODULES
        and _under(node, "torch" if node.attr != "functional" else "autograd")
    ):
        return [_MODULES[node.attr]]
    if isinstance(node, ast.Name) and node.id == "functorch":
        return [_MODULES["functorch"]]
    return []


def _under(node: ast.AST, name: str) -> bool:
    """Whether an attribute chain like torch.autograd.grad passes through `name`."""
    while isinstance(node, ast.Attribute):
        node = node.value
        if isinstance(node, ast.Attribute) and node.attr == name or isinstance(node, ast.Name) and node.id == name:
            return True
    return False
