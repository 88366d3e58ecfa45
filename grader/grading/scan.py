"""Autograd in a student's source, read without running it: the uses a run may not reach
(a branch not taken), named as the student wrote them ("calls .backward()")."""

from __future__ import annotations

import ast
from pathlib import Path

from grader.grading.sources import last_definition

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
