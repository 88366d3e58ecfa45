"""Keep autograd out of a student's backward pass, and say when it was used.

At run time, `AutogradGuard` turns grad mode off and makes every door into autograd
raise while it records the attempt: switching grad mode back on (torch.enable_grad,
set_grad_enabled, the torch.func transforms), running the backward engine
(.backward(), torch.autograd.grad), forward-mode AD (make_dual, torch.func.jvp), and,
behind them all, recording a graph at all (a saved-tensors hook). A source scan of the
student's function adds what the run may not reach (a branch not taken).
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch.autograd import forward_ad
from torch.autograd.variable import Variable

ADVICE = "write the gradient by hand"


class AutogradUnavailable(RuntimeError):
    """Raised inside student code at any use of autograd."""


class _Engine:
    """Stands in for autograd's backward engine while the guard is on."""

    def __init__(self, guard: AutogradGuard, engine: Any):
        self._guard, self._engine = guard, engine

    def run_backward(self, *args: Any, **kwargs: Any) -> Any:
        self._guard.refuse("runs the backward engine (.backward() or torch.autograd.grad)")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


class AutogradGuard:
    """While active: no grad mode, and each use of autograd raises and is recorded in
    `evidence`, even when the student's code catches the exception."""

    def __init__(self) -> None:
        self.evidence: list[str] = []
        self._patches: list[tuple[Any, str, Any]] = []

    def refuse(self, what: str) -> None:
        if what not in self.evidence:
            self.evidence.append(what)
        raise AutogradUnavailable(f"autograd is switched off while grading: your code {what}; {ADVICE}")

    def __enter__(self) -> AutogradGuard:
        self._no_grad = torch.no_grad()
        self._no_grad.__enter__()
        set_grad_enabled = torch._C._set_grad_enabled

        def guarded_set_grad_enabled(mode: bool) -> None:
            if mode:
                self.refuse("switches grad mode back on (enable_grad, set_grad_enabled or a torch.func transform)")
            set_grad_enabled(mode)

        make_dual = forward_ad.make_dual

        def guarded_make_dual(*args: Any, **kwargs: Any) -> Any:
            self.refuse("uses forward-mode AD (make_dual, torch.func.jvp or jacfwd)")
            return make_dual(*args, **kwargs)

        def guarded_functorch(*args: Any, **kwargs: Any) -> Any:
            # torch.func's grad and vjp (so jacrev and hessian too) enter this first.
            self.refuse("uses a torch.func transform (grad, vjp, jacrev or hessian)")

        self._patch(torch._C, "_set_grad_enabled", guarded_set_grad_enabled)
        self._patch(torch.autograd.graph, "disable_saved_tensors_hooks", guarded_functorch)
        self._patch(forward_ad, "make_dual", guarded_make_dual)
        self._patch(Variable, "_execution_engine", _Engine(self, Variable._execution_engine))
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda packed: packed)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._hooks.__exit__(*exc)
        for owner, name, original in reversed(self._patches):
            setattr(owner, name, original)
        self._patches.clear()
        self._no_grad.__exit__(*exc)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Autograd back for the grader's own use (a reference computed mid-run); what
        was recorded stays recorded."""
        self.__exit__(None, None, None)
        try:
            yield
        finally:
            self.__enter__()

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._patches.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    def _pack(self, tensor: torch.Tensor) -> torch.Tensor:
        self.refuse("records an autograd graph")
        return tensor

    def check_returned(self, value: Any) -> None:
        """Record a returned tensor that is attached to a graph."""
        tensors = value.values() if isinstance(value, dict) else value if isinstance(value, tuple | list) else [value]
        if any(isinstance(t, torch.Tensor) and (t.requires_grad or t.grad_fn is not None) for t in tensors):
            self.evidence.append("returns a tensor attached to an autograd graph")


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
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []  # the import reports it
    defined = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function]
    if not defined:
        return []
    found = [meaning for sub in ast.walk(defined[-1]) for meaning in _meaning(sub)]  # the last def is the one that runs
    return list(dict.fromkeys(found))


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
