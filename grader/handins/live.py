"""The exercise functions of a running notebook (Jupyter, Colab, IPython), with what
they read, as definitions the grader writes into modules (assembly.py).

A function's source comes from the cell that defined it; the globals it reads travel
with it as source too: the notebook's own functions, its imports, plain values (`n`,
`block_size`) and small tensors. Anything else (a generator, a model, a large data set)
stays behind, and the check says so.
"""

from __future__ import annotations

import ast
import base64
import builtins
import inspect
import sys
import sysconfig
import textwrap
import types
from pathlib import Path
from typing import Any

from grader.handins.assembly import Definition, Left, global_reads, literal

MAX_TENSOR = 2**20  # bytes of one tensor that travels with a function
MAX_TENSORS = 8 * 2**20  # bytes of all of them
# Where installed modules live: a function imported from there is imported again in the
# grader's worker; one from anywhere else (a file beside the notebook) is not readable there.
INSTALLED = tuple(
    {
        str(Path(p).resolve())
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (p := sysconfig.get_paths().get(key))
    }
    | {str(Path(sys.base_prefix).resolve()), str(Path(sys.prefix).resolve())}
)


class SourceError(ValueError):
    """A function whose source the grader cannot read, with what to do."""


class Namespace:
    """A running notebook's globals, as definitions."""

    def __init__(self, namespace: dict[str, Any]):
        self.namespace = namespace
        self._closures: dict[str, Any] = {}  # the values of enclosing functions' variables the taken functions read
        self._modules: list[dict[str, Any]] = []  # the globals of taken functions defined in a module of their own
        self._tensor_bytes = 0

    def function(self, name: str, fn: Any) -> Definition:
        """The definition of exercise function `name`: `fn`, from the source of its cell."""
        if not isinstance(fn, types.FunctionType):
            raise SourceError(f"{name} is a {type(fn).__name__}, not a function: define it with def {name}(...):")
        found = self._source(getattr(fn, "__name__", name), fn)
        if found is None:
            raise SourceError(
                f"the grader cannot read the source of {fn.__name__}: define it in a notebook cell, run "
                "the cell, and check it again"
            )
        return found

    def resolve(self, name: str) -> Definition | Left | None:
        if name in self._closures:
            return self._definition(name, self._closures[name])
        for scope in (self.namespace, *self._modules):
            if name in scope:
                return self._definition(name, scope[name])
        if hasattr(builtins, name):
            return None
        return Left(name, "not defined in the notebook", "run the cell that defines it")

    def _definition(self, name: str, value: Any) -> Definition | Left:
        if isinstance(value, types.ModuleType):
            alias = "" if value.__name__.split(".")[0] == name and "." not in value.__name__ else f" as {name}"
            return Definition(name, "import", f"import {value.__name__}{alias}")
        text = literal(value)
        if text is not None:
            return Definition(name, "value", f"{name} = {text}")
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.dtype):
            return Definition(name, "value", f'{name} = __import__("torch").{str(value).removeprefix("torch.")}')
        if torch is not None and isinstance(value, torch.Tensor):
            return self._tensor(name, value)
        if callable(value):
            return self._callable(name, value)
        return Left(name, f"a {type(value).__name__}")

    def _callable(self, name: str, value: Any) -> Definition | Left:
        module = getattr(value, "__module__", None)
        if isinstance(value, types.FunctionType) and (module == "__main__" or value.__globals__ is self.namespace):
            found = self._source(name, value)
            return found or Left(name, "a function whose source the grader cannot read")
        loaded = sys.modules.get(module or "")
        qualname = getattr(value, "__qualname__", "")
        if loaded is not None and "." not in qualname and getattr(loaded, qualname, None) is value:
            if not _installed(loaded):
                return Left(
                    name,
                    f"from {Path(str(getattr(loaded, '__file__', None) or module)).name}, which the grader does not "
                    "take along: define it in the notebook",
                )
            alias = "" if qualname == name else f" as {name}"
            return Definition(name, "import", f"from {module} import {qualname}{alias}")
        return Left(name, f"a {type(value).__name__} the grader cannot take along")

    def _source(self, name: str, fn: types.FunctionType) -> Definition | None:
        """`fn` as the source that defines it under `name`, from its cell (decorators
        included), or from the notebook's history where its cell ran under a magic."""
        base = inspect.unwrap(fn)
        try:
            lines, first = inspect.getsourcelines(fn)
            place = _place(base.__code__.co_filename)
        except (OSError, TypeError):
            lines, first, place = _from_history(base.__code__.co_name)
        if not lines:
            return None
        source = textwrap.dedent("".join(lines))
        if base.__code__.co_name == "<lambda>":
            named = _lambda(source, name)
            if named is None:
                return None
            source = named
        elif base.__code__.co_name != name:
            source += f"\n{name} = {base.__code__.co_name}\n"
        if base.__globals__ is not self.namespace and all(base.__globals__ is not m for m in self._modules):
            self._modules.append(base.__globals__)  # a function imported from a .py file reads that file's globals
        for variable, cell in zip(base.__code__.co_freevars, base.__closure__ or ()):
            try:
                self._closures.setdefault(variable, cell.cell_contents)
            except ValueError:  # an enclosing variable not bound yet
                continue
        return Definition(name, "function", source, place, first if place else 1, global_reads(source))

    def _tensor(self, name: str, value: Any) -> Definition | Left:
        torch = sys.modules["torch"]
        size = value.numel() * value.element_size()
        if value.layout != torch.strided or value.is_quantized:
            return Left(name, "a sparse or quantized tensor")
        if size > MAX_TENSOR or self._tensor_bytes + size > MAX_TENSORS:
            return Left(
                name,
                f"a tensor of {value.numel():,} values, too large to travel with a function "
                f"({MAX_TENSOR // 2**20} MB at most)",
            )
        self._tensor_bytes += size
        # Its bytes, dtype and shape: no pickle, nothing to import but base64 in the worker.
        tensor = value.detach().cpu().contiguous()
        kind, shape = str(tensor.dtype).removeprefix("torch."), tuple(tensor.shape)
        data = base64.b64encode(tensor.reshape(-1).view(torch.uint8).numpy().tobytes()).decode() if size else ""
        made = f'__import__("torch").frombuffer(bytearray(__import__("base64").b64decode("{data}")), dtype=__import__("torch").{kind})'
        load = (
            f"{made}.reshape({shape!r}).clone()"
            if size
            else f'__import__("torch").empty({shape!r}, dtype=__import__("torch").{kind})'
        )
        remark = ""
        if value.numel() > 1:  # a constant is harmless; a batch's tensor fits one size only
            remark = (
                f"a tensor of the notebook, {' x '.join(map(str, value.shape))}: a backward function that "
                "reads it is right at its sizes only; take what it needs from the arguments"
            )
        return Definition(name, "value", f"{name} = {load}", remark=remark)


def _lambda(source: str, name: str) -> str | None:
    """`name = lambda ...` from the source lines a lambda is on."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
    if len(found) != 1:
        return None
    return f"{name} = {ast.get_source_segment(source, found[0])}\n"


def _from_history(function: str) -> tuple[list[str], int, str]:
    """The lines of the def of `function` in the last cell of IPython's history that
    defines it, the line it starts on, and the cell ("Cell In[7]"): for a cell that ran
    under a magic (%%time), whose code Python cannot find again."""
    from grader.handins.cells import python

    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    history = getattr(shell, "history_manager", None)
    inputs = getattr(history, "input_hist_raw", None) or []  # as typed: In holds the cells as IPython rewrote them
    for count in range(len(inputs) - 1, 0, -1):
        text = python(inputs[count] or "")
        if not text or f"def {function}" not in text:
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in reversed(tree.body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                return text.splitlines(keepends=True)[first - 1 : node.end_lineno], first, f"Cell In[{count}]"
    return [], 1, ""


def _place(filename: str) -> str:
    """How a student knows the cell a code object came from: IPython's "Cell In[5]", or
    a file's name; "" when neither is known."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    named = shell.compile.format_code_name(filename) if shell and hasattr(shell, "compile") else None
    if named:
        return " ".join(named)
    return Path(filename).name if Path(filename).is_file() else ""


def _installed(module: types.ModuleType) -> bool:
    file = getattr(module, "__file__", None)
    if file is None:
        return True  # built into the interpreter
    return str(Path(file).resolve()).startswith(INSTALLED)
