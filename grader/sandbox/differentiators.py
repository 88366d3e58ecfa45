"""torch's own ways to differentiate, found in torch itself rather than listed by hand,
so that a newer torch's are found too: its gradient operators (from the operator
registry), the Python functions that implement them (from its decomposition tables), and
the entry points of its namespace that differentiate symbolically or hook frames.

A worker refuses all of them (sandbox/seal.py); the grader's own process refuses the
operators around each call of --no-sandbox (guard.py).
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterable
from functools import cache
from typing import Any

import torch

# An operator whose name has one of these words computes a gradient (aten::tanh_backward,
# aten::_log_softmax_backward_data, aten::_standard_gamma_grad, aten::glu_jvp, ...); one
# named make_dual starts forward-mode AD.
_GRADIENT = re.compile(r"(?:^|_)(?:backward|grad|jvp|vjp|make_dual)(?:_|$)")
# Names in torch._C of symbolic differentiation (TorchScript's _jit_differentiate, ...).
_SYMBOLIC = re.compile(r"differentiat|autodiff")


def base_name(name: str) -> str:
    """ "aten::tanh_backward.grad_input" -> "tanh_backward"."""
    return name.split("::", 1)[-1].split(".", 1)[0]


def packet(name: str) -> str:
    """ "aten::mul.Tensor" -> "aten::mul": an operator with all its overloads."""
    return name.split(".", 1)[0]


@cache
def gradient_operators() -> frozenset[str]:
    """Every gradient operator in torch's registry, with its overload, as the registry
    names it (aten::tanh_backward, aten::tanh_backward.grad_input, ...)."""
    return frozenset(n for n in torch._C._dispatch_get_all_op_names() if _GRADIENT.search(base_name(n)))


@cache
def forward_ad_operators() -> tuple[str, ...]:
    """The gradient operators that make forward-mode AD's dual tensors (aten::_make_dual)."""
    return tuple(sorted(n for n in gradient_operators() if "make_dual" in base_name(n)))


_REGISTERED = re.compile(r"^(\w+)(?:\[alias\])?(?: \(inactive\))?: registered at ", re.MULTILINE)


@cache
def kernel_keys(name: str) -> tuple[str, ...]:
    """The dispatch keys at which the registry holds a kernel of the operator `name`
    (backends, and alias keys such as CompositeExplicitAutograd or Autograd): a kernel
    registered at each of them shadows every kernel the operator had."""
    return tuple(k for k in dict.fromkeys(_REGISTERED.findall(torch._C._dispatch_dump(name))) if k != "debug")


def python_implementations(operators: Iterable[str]) -> list[types.FunctionType]:
    """The Python functions of torch that compute these operators: their entries in the
    decomposition tables and their Python kernels, with every function of torch's that
    each of them wraps or closes over."""
    wanted = set(operators)
    found: dict[int, types.FunctionType] = {}

    def take(fn: Any) -> None:
        while isinstance(fn, types.FunctionType) and id(fn) not in found:
            if not (fn.__module__ or "").startswith("torch"):
                return
            found[id(fn)] = fn
            for cell in fn.__closure__ or ():
                try:
                    take(cell.cell_contents)
                except ValueError:  # an empty cell
                    continue
            fn = getattr(fn, "__wrapped__", None)

    from torch._decomp import global_decomposition_table

    for table in global_decomposition_table.values():
        for op, fn in table.items():
            if _name(op) in wanted:
                take(fn)
    for name in wanted:
        for overload in overloads(name):
            for fn in overload.py_kernels.values():
                take(fn)
    # And the helpers beside them, in their modules, named as gradients are (a registered
    # nll_loss_backward calls _nll_loss_backward by its global name, not through a closure).
    for module in {fn.__module__ for fn in found.values()}:
        for value in list(vars(sys.modules[module]).values()) if module in sys.modules else ():
            if isinstance(value, types.FunctionType) and _GRADIENT.search(value.__name__):
                take(value)
    return list(found.values())


def symbolic_entry_points() -> dict[str, Any]:
    """What torch's namespace offers to differentiate code symbolically (TorchScript's
    differentiator) or to see every frame run (the frame-evaluation hook of
    torch._C._dynamo.eval_frame), by name."""
    found = {f"torch._C.{k}": v for k, v in vars(torch._C).items() if _SYMBOLIC.search(k) and callable(v)}
    frames = getattr(getattr(torch._C, "_dynamo", None), "eval_frame", None)
    if frames is not None:
        found.update(
            {f"{frames.__name__}.{k}": v for k, v in vars(frames).items() if callable(v) and not isinstance(v, type)}
        )
    return found


def overloads(name: str) -> list[Any]:
    """The OpOverload objects of `name`: all of an operator's when it names no overload."""
    namespace, _, rest = name.partition("::")
    packet_name, _, overload = rest.partition(".")
    try:
        found = getattr(getattr(torch.ops, namespace), packet_name)
    except (AttributeError, RuntimeError):
        return []
    names = [overload or "default"] if "." in rest else found.overloads()
    out = []
    for each in names:
        try:
            out.append(getattr(found, each))
        except (AttributeError, RuntimeError):
            continue
    return out


def _name(op: Any) -> str:
    try:
        return str(op.name())
    except (AttributeError, RuntimeError):
        return ""


def light(mode: type) -> type:
    """A TorchDispatchMode class whose first dispatch does not import torch._dynamo: torch
    wraps every such class's __torch_dispatch__ to keep dynamo out, and that wrapper
    imports it (0.8 s) on its first call; nothing here runs under dynamo."""
    wrapped = mode.__dict__["__torch_dispatch__"]
    raw = getattr(wrapped, "__wrapped__", None)
    if raw is not None:
        setattr(raw, "__dynamo_disable", raw)  # the wrapper's own cache, filled with the function itself
    return mode
