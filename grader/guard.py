"""Keep autograd out of a student's backward pass, and say when it was used.

Structural where torch allows it: grad mode and forward-mode AD are off, and every
torch entry point that would switch them back on or start autograd refuses and records
the attempt, even when student code catches the error: enable_grad and
set_grad_enabled (torch.func's transforms go through them), inference_mode(False), the
backward engine (.backward(), torch.autograd.grad), entering a dual level, the
`aten::_make_dual` operator itself (at the dispatcher, so every binding of it is
covered), requires_grad=True (the method, the attribute, nn.Parameter and every factory
function). In a worker, where seccomp forbids threads and processes, nothing can step
outside the thread the guard holds.

Detected where it is not: a call that creates any autograd graph node, by any way at
all (a grad mode switched on through a reference kept from before, graph nodes called
by hand), moves autograd's own node counter, which Python cannot turn back; and a guard
found removed or changed after a call counts as autograd use. A source scan of the
student's function adds what the run may not reach (a branch not taken).
"""

from __future__ import annotations

import ast
import contextlib
import warnings
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch.autograd.variable import Variable

from grader.sources import last_definition

ADVICE = "write the gradient by hand"
TAMPERED = "removes or steps around the grader's autograd guard"
RECORDED = "records an autograd graph"


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


@cache
def factories() -> tuple[str, ...]:
    """The functions of the torch namespace that take requires_grad=."""
    found = []
    for name in dir(torch):
        doc = getattr(getattr(torch, name), "__doc__", None) if not name.startswith("_") else None
        if isinstance(doc, str) and "requires_grad (bool, optional)" in doc:
            found.append(name)
    return tuple(found)


class AutogradGuard:
    """Autograd off and watched. `install` puts the guard in place (for good in a worker,
    or for one call in the grader's own process, where `with guard:` removes it again);
    `watching` wraps each call of student code and adds to `evidence` whatever that call
    did with autograd, caught or not."""

    def __init__(self) -> None:
        self.evidence: list[str] = []
        self._patches: list[tuple[Any, str, Any, Any]] = []  # owner, name, original, replacement
        self._library: Any = None
        self._modes: tuple[bool, bool] = (True, True)
        self._fingerprint: tuple[Any, ...] = ()
        self._allowance = 0  # graph nodes the grader's own work created while watching

    def refuse(self, what: str) -> None:
        if what not in self.evidence:
            self.evidence.append(what)
        raise AutogradUnavailable(f"autograd is switched off while grading: your code {what}; {ADVICE}")

    # -- putting it in place ------------------------------------------------------------

    def install(self) -> None:
        self._modes = (torch.is_grad_enabled(), torch._C._is_fwd_grad_enabled())
        set_grad_enabled, set_fwd_grad_enabled = torch._C._set_grad_enabled, torch._C._set_fwd_grad_enabled
        self._set_grad_enabled = set_grad_enabled
        set_grad_enabled(False)
        set_fwd_grad_enabled(False)
        inference_mode = torch._C._InferenceMode

        def guarded_set_grad_enabled(mode: bool) -> None:
            if mode:
                self.refuse("switches grad mode back on (enable_grad, set_grad_enabled or a torch.func transform)")

        def guarded_set_fwd_grad_enabled(mode: bool) -> None:
            if mode:
                self.refuse("switches forward-mode AD on")

        def guarded_inference_mode(mode: bool = True) -> Any:
            if not mode:
                self.refuse("switches grad mode back on (inference_mode(False))")
            return inference_mode(mode)

        def refusing(what: str) -> Callable[..., Any]:
            def refuse(*args: Any, **kwargs: Any) -> Any:
                self.refuse(what)

            return refuse

        def without_requires_grad(original: Callable[..., Any], method: bool = False) -> Callable[..., Any]:
            def guarded(*args: Any, **kwargs: Any) -> Any:
                if kwargs.get("requires_grad"):
                    self.refuse("creates a tensor with requires_grad=True")
                return original(*args, **kwargs)

            return guarded

        base = torch._C.TensorBase
        requires_grad: Any = base.requires_grad  # the class's descriptor (torch's stubs type it bool)

        def set_requires_grad(tensor: torch.Tensor, value: bool) -> None:
            if value:
                self.refuse("sets requires_grad")
            requires_grad.__set__(tensor, value)

        def requires_grad_(tensor: torch.Tensor, value: bool = True) -> torch.Tensor:
            if value:
                self.refuse("sets requires_grad")
            return base.requires_grad_(tensor, value)

        make_subclass = torch.Tensor._make_subclass

        def guarded_make_subclass(
            cls: type, data: torch.Tensor, require_grad: bool = False, *args: Any, **kwargs: Any
        ) -> Any:
            if require_grad:
                self.refuse("makes an nn.Parameter that requires grad")
            return make_subclass(cls, data, require_grad, *args, **kwargs)

        self._patch(torch._C, "_set_grad_enabled", guarded_set_grad_enabled)
        self._patch(torch._C, "_set_fwd_grad_enabled", guarded_set_fwd_grad_enabled)
        self._patch(torch._C, "_InferenceMode", guarded_inference_mode)
        self._patch(torch._C, "_enter_dual_level", refusing("uses forward-mode AD (a dual level)"))
        # torch.func's grad and vjp (so jacrev and hessian too) enter this first.
        self._patch(
            torch.autograd.graph,
            "disable_saved_tensors_hooks",
            refusing("uses a torch.func transform (grad, vjp, jacrev or hessian)"),
        )
        self._patch(Variable, "_execution_engine", _Engine(self, Variable._execution_engine))
        self._patch(torch.Tensor, "requires_grad", property(requires_grad.__get__, set_requires_grad))
        self._patch(torch.Tensor, "requires_grad_", requires_grad_)
        self._patch(torch.Tensor, "_make_subclass", staticmethod(guarded_make_subclass))
        for name in factories():
            self._patch(torch, name, without_requires_grad(getattr(torch, name)))
        for name in ("new_empty", "new_empty_strided", "new_full", "new_ones", "new_tensor", "new_zeros"):
            self._patch(torch.Tensor, name, without_requires_grad(getattr(base, name)))
        with warnings.catch_warnings():  # "overriding a previously registered kernel": that is the point
            warnings.simplefilter("ignore")
            self._library = torch.library.Library("aten", "IMPL")
            for key in ("Autograd", "ADInplaceOrView", "CompositeExplicitAutograd"):
                self._library.impl(
                    "_make_dual", refusing("uses forward-mode AD (make_dual, torch.func.jvp or jacfwd)"), key
                )
        self._fingerprint = self._state()

    def uninstall(self) -> None:
        for owner, name, original, _ in reversed(self._patches):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._patches.clear()
        if self._library is not None:
            with contextlib.suppress(Exception):  # student code may have destroyed it already
                self._library._destroy()
            self._library = None
        self._set_grad_enabled(self._modes[0])
        torch._C._set_fwd_grad_enabled(self._modes[1])

    def __enter__(self) -> AutogradGuard:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        # An attribute the class only inherits is removed again, not copied down.
        original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name)
        self._patches.append((owner, name, original, replacement))
        setattr(owner, name, replacement)

    # -- watching calls -------------------------------------------------------------------

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Around one call of student code: any graph node it created, or any part of the
        guard it changed, is evidence."""
        self._allowance = 0
        before = self._nodes()
        try:
            yield
        finally:
            created = self._nodes() - before - 1 - self._allowance
            if created > 0 and RECORDED not in self.evidence:
                self.evidence.append(RECORDED)
            if self._state() != self._fingerprint and TAMPERED not in self.evidence:
                self.evidence.append(TAMPERED)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Autograd back for the grader's own use (a check mid-training); the nodes it
        creates are not the student's."""
        start = self._nodes()
        self.uninstall()
        try:
            yield
        finally:
            self.install()
            self._allowance += self._nodes() - start + 1  # and the node of that last reading

    def _nodes(self) -> int:
        """Autograd's node counter (thread-local, and only ever counting up), read by
        creating one node."""
        set_grad_enabled = self._set_grad_enabled if self._patches else torch._C._set_grad_enabled
        was = torch.is_grad_enabled()
        set_grad_enabled(True)
        try:
            probe = torch.zeros(1, dtype=torch.float32)
            torch._C.TensorBase.requires_grad_(probe)
            node: Any = (probe * 2).grad_fn  # a node: probe requires its gradient
            return node._sequence_nr()
        finally:
            set_grad_enabled(was)

    def _state(self) -> tuple[Any, ...]:
        placed = tuple(
            owner.__dict__.get(name) is new if isinstance(owner, type) else getattr(owner, name) is new
            for owner, name, _, new in self._patches
        )
        return (
            placed,
            torch._C._dispatch_dump("aten::_make_dual"),
            torch.is_grad_enabled(),
            torch._C._is_fwd_grad_enabled(),
            torch.is_inference_mode_enabled(),
        )

    def check_returned(self, value: Any) -> None:
        """Record a returned tensor that is attached to a graph."""
        tensors = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else [value]
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
