"""A notebook file (.ipynb) handed in: its code cells, read without running any of them.

The exercise functions, the helpers they call, the imports they use and the plain values
they read (`n = batch_size = 32`, `vocab_size = 27`) are taken from the cells' top
level; shell lines and magics are skipped, and nothing else runs: no training loop, no
download. A name that a later cell binds again takes its last binding, as when the
notebook runs top to bottom; one that only code the grader does not run binds (a
tensor, a loop's variable) stays behind, and the report says so.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import json
import operator
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from grader.calls.failures import SubmissionError
from grader.calls.files import NotRegular, open_regular
from grader.exercises import catalogue
from grader.handins.assembly import Assembly, Definition, Left, assemble, global_reads, literal, stand_in
from grader.handins.naming import function_of, handed_in, tried

if TYPE_CHECKING:
    from typing import TypeGuard  # Python 3.10; annotations here are never evaluated

MAX_NOTEBOOK = 32 * 2**20  # bytes: its outputs (pictures) may be large; the grader reads only its code
MAX_CODE = 2 * 2**20  # characters of code in all its cells: a notebook of exercises holds a few hundred lines
# Cell magics whose body is Python; the body of any other (%%bash, %%writefile) is not.
PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")
# After the indentation: a magic or shell line, `help?`, or `files = !ls`.
_SHELL = re.compile(r"[%!]|[\w.]+\?\??[ \t]*$|[\w.,\[\]()* \t]+=[ \t]*[%!]")
_LINE_END = re.compile(r"\r\n|\r|\n")  # Python's, not str.splitlines's (U+2028 in a comment is no line end)
MAX_VALUE = 10_000  # elements of a plain value the grader evaluates
MAX_INT_BITS = 65_536  # of an int the grader computes
ADVICE = "hand in the .ipynb file as Jupyter or Colab saves it (in Colab: File > Download > Download .ipynb)"

# The nodes that bind a name of their own; `match` patterns exist from Python 3.10 on.
_NAMING = tuple(getattr(ast, name) for name in ("ExceptHandler", "MatchAs", "MatchStar") if hasattr(ast, name))


class NotebookError(SubmissionError):
    """A file that is not a notebook the grader can read, with what to do."""


@dataclass(frozen=True)
class Cell:
    place: str  # as Jupyter shows it: "Cell In[17]" (its execution count), or "the 5th code cell"
    source: str


def read(path: Path) -> list[Cell]:
    """The code cells of the notebook at `path`, a regular file (not a link)."""
    data = _load(path)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        found = "an nbformat 3 notebook" if isinstance(data, dict) and "worksheets" in data else "JSON without cells"
        raise NotebookError(f"{path.name} is not a notebook the grader can read: it is {found}; {ADVICE}")
    code_cells = [c for c in data["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    cells, code = [], 0
    for place, cell in zip(places([c.get("execution_count") for c in code_cells]), code_cells):
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{path.name}: {place} has no source text the grader can read; {ADVICE}")
        code += len(source)
        if code > MAX_CODE:
            raise NotebookError(
                f"{path.name} holds more than {MAX_CODE:,} characters of code, far more than the "
                "exercises need: hand in the notebook of the exercises"
            )
        cells.append(Cell(place, source))
    return cells


def places(counts: list[object]) -> list[str]:
    """How a student finds each code cell, given their execution counts: the count that
    Jupyter shows beside a cell that ran ("Cell In[17]", as IPython's tracebacks name
    it), or, for a cell that did not run or whose count another cell shares (runs from
    two sessions), its rank among the code cells, said so; never a number that counts
    the text cells."""
    runs = [c if type(c) is int and c > 0 else None for c in counts]
    shared = {c for c, times in Counter(runs).items() if times > 1}
    return [
        f"Cell In[{count}]" if count is not None and count not in shared else f"the {_ordinal(rank)} code cell"
        for rank, count in enumerate(runs, start=1)
    ]


def _ordinal(n: int) -> str:
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _load(path: Path) -> Any:
    """The JSON of a notebook file, read without following a link or waiting on a FIFO,
    and within its cap."""
    try:
        fd = open_regular(path)
    except NotRegular as error:
        raise NotebookError(f"{path.name} is {error.what}: hand in the notebook itself") from None
    except OSError as error:
        raise NotebookError(f"{path.name} cannot be read: {error.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        text = f.read(MAX_NOTEBOOK + 1)
    if len(text) > MAX_NOTEBOOK:
        raise NotebookError(
            f"{path.name} is more than {MAX_NOTEBOOK:,} bytes, more than a notebook of exercises "
            "needs: clear its outputs (Edit > Clear outputs of all cells) and save it"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(
            f"{path.name} is not a notebook: it is not valid JSON ({error.msg}, line {error.lineno}): {ADVICE}"
        ) from None
    except (ValueError, RecursionError, MemoryError):  # a number past 4,300 digits, nesting past the stack
        raise NotebookError(
            f"{path.name} is not a notebook the grader can read: its JSON is malformed; {ADVICE}"
        ) from None


def python(source: str) -> str | None:
    """A cell's Python with its shell lines and line magics made `pass`, line for line,
    every line ended by a newline; None for a cell whose magic runs something other than
    Python."""
    lines = _LINE_END.split(source)
    if lines and not lines[-1]:
        lines.pop()  # the line end of the last line
    if lines and lines[0].startswith("%%"):
        if lines[0][2:].split(maxsplit=1)[:1] not in ([m] for m in PYTHON_CELL_MAGICS):
            return None
        lines[0] = ""
    out = []
    for line in lines:
        code = line.lstrip(" \t")
        out.append(f"{line[: len(line) - len(code)]}pass" if _SHELL.match(code) else line)
    return "\n".join(out) + "\n"


class Namespace:
    """What the top level of a notebook's code cells binds, each name to its last
    binding: a Definition the grader can take along, or why it cannot."""

    def __init__(self, cells: list[tuple[Cell, str]]):
        self.bound: dict[str, Definition | Left] = {}
        # Exercise function -> each binding of its name to a function, in order: the cell,
        # and the other function it was set to ("" for a def or a lambda of its own).
        self.defined: dict[str, list[tuple[str, str]]] = {}
        self.checks: list[tuple[str, str, str]] = []  # check("id", g) calls: the cell, the id's function, g
        self.notes: list[str] = []
        self._plain: dict[str, Any] = {}  # the values of the names bound to plain values
        self._stars: list[str] = []
        self._order = itertools.count()
        for cell, place in cells:
            self._read(cell, place)

    def resolve(self, name: str) -> Definition | Left | None:
        if name in self.bound:
            return self.bound[name]
        if self._stars:
            return Definition(name, "import", "\n".join(self._stars))
        if hasattr(builtins, name):
            return None
        return Left(name, "not defined at the top level of any code cell", "define it at the top level of a cell")

    def functions(self) -> dict[str, Definition]:
        """The exercise functions the notebook hands in, by naming.py's rule: what each
        name holds at the end (one bound to another function by `f = g` is that function)."""
        found = cast("dict[str, Definition]", handed_in(self.bound, _is_function))  # _is_function says so
        for name, definition in found.items():
            while definition.aliased is not None:
                definition = definition.aliased
            found[name] = definition
        return found

    def _read(self, cell: Cell, place: str) -> None:
        text = python(cell.source)
        if text is None:
            return
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:  # nested too deep for the parser
            self._broken(text, place, error)
            return
        lines = [line + "\n" for line in text.split("\n")]
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                source = "".join(lines[first - 1 : node.end_lineno])
                self._bind(Definition(node.name, "function", source, place, first, global_reads(source)))
                self._defines(node.name, place)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self._imports(node, place)
            elif isinstance(node, ast.Expr):
                self._check(node, place)
            elif not (self._alias(node, place) or self._lambda(node, place, lines) or self._values(node, place)):
                for name in _bound_names(node):
                    self._bind(Left(name, f"set in {place} by code the grader does not run"))

    def _defines(self, name: str, place: str, other: str = "") -> None:
        if name in catalogue.FUNCTIONS:
            self.defined.setdefault(name, []).append((place, other))

    def _check(self, node: ast.Expr, place: str) -> None:
        """Note `check("ex2.cross_entropy_backward", g)`: it binds nothing (naming.py),
        and the report says so when g is not what it hands in."""
        call = node.value
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", getattr(call.func, "attr", None)) == "check"):
            return
        first = call.args[0] if call.args else None
        function = function_of(first.value) if isinstance(first, ast.Constant) else None
        value = call.args[1] if len(call.args) == 2 else None
        if function is not None and isinstance(value, ast.Name):
            self.checks.append((place, function, value.id))

    def _alias(self, node: ast.stmt, place: str) -> bool:
        """`f = g` where g is a function the notebook defines: f is g, under another name."""
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            return False
        target, value = node.targets[0].id, node.value
        found = self.bound.get(value.id) if isinstance(value, ast.Name) else None
        if not _is_function(found) or found.name == target:
            return False
        self._defines(target, place, found.name)
        self._bind(
            Definition(
                target, "function", f"{target} = {found.name}\n", place, node.lineno, frozenset({found.name}), found
            )
        )
        return True

    def _lambda(self, node: ast.stmt, place: str, lines: list[str]) -> bool:
        """`f = lambda ...`: a function, as a def is."""
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda) and len(node.targets) == 1):
            return False
        if not isinstance(node.targets[0], ast.Name):
            return False
        source = "".join(lines[node.lineno - 1 : node.end_lineno])
        self._bind(Definition(node.targets[0].id, "function", source, place, node.lineno, global_reads(source)))
        self._defines(node.targets[0].id, place)
        return True

    def _bind(self, found: Definition | Left, value: Any = None) -> None:
        if isinstance(found, Definition):
            found = replace(found, order=next(self._order))
        self.bound[found.name] = found
        self._plain.pop(found.name, None)
        if isinstance(found, Definition) and found.kind == "value":
            self._plain[found.name] = value

    def _imports(self, node: ast.Import | ast.ImportFrom, place: str) -> None:
        if isinstance(node, ast.ImportFrom) and (node.level or node.module == "__future__"):
            return
        for alias in node.names:
            if alias.name == "*":
                self._stars.append(ast.unparse(node))
                continue
            single = ast.Import([alias]) if isinstance(node, ast.Import) else ast.ImportFrom(node.module, [alias], 0)
            name = alias.asname or alias.name.split(".")[0]
            self._bind(Definition(name, "import", ast.unparse(single), place, node.lineno))

    def _values(self, node: ast.stmt, place: str) -> bool:
        """Bind the names of an assignment of plain values (numbers, strings, tuples of
        them, arithmetic on the values bound before); False when it is not one."""
        if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            return False
        values = self._plain
        try:
            if isinstance(node, ast.AugAssign):
                if not isinstance(node.target, ast.Name):
                    return False
                value = _evaluate(ast.BinOp(ast.Name(node.target.id, ast.Load()), node.op, node.value), values)
                targets: list[ast.expr] = [node.target]
            else:
                if node.value is None:
                    return False
                value = _evaluate(node.value, values)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            pairs = [pair for target in targets for pair in _unpacked(target, value)]
        except (_NotPlain, RecursionError, MemoryError):
            return False
        texts = [literal(item) for _, item in pairs]
        if None in texts:
            return False
        for (name, item), text in zip(pairs, texts):
            self._bind(Definition(name, "value", f"{name} = {text}", place, node.lineno), item)
        return True

    def _broken(self, text: str, place: str, error: Exception) -> None:
        """A cell that does not compile binds nothing, as in a kernel, where it stops at
        its error: a function defined before it stays. One that no cell before defines
        raises, at its first call, what is wrong with it."""
        line = getattr(error, "lineno", None) or 1
        why = getattr(error, "msg", None) or str(error) or "too large or nested too deeply for Python's parser"
        lines = text.split("\n")
        shown = lines[line - 1] if 0 < line <= len(lines) else ""
        kept = []
        for match in re.finditer(r"^(?:async\s+)?def\s+(\w+)\s*\(", text, re.MULTILINE):
            if _is_function(self.bound.get(match[1])):
                kept.append(match[1])
                continue
            self._bind(
                stand_in(match[1], SyntaxError(why, (place, line, getattr(error, "offset", None), shown)), place)
            )
            self._defines(match[1], place)
        kept = list(dict.fromkeys(kept))
        earlier = ""
        if kept:
            earlier = f"; {', '.join(kept)} " + (
                "keeps its earlier definition" if len(kept) == 1 else "keep their earlier ones"
            )
        self.notes.append(f"{place} does not compile ({why}, line {line}): nothing in it is graded{earlier}")


class _NotPlain(Exception):
    pass


_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def _evaluate(node: ast.expr, values: dict[str, Any]) -> Any:
    """The value of a plain expression, or _NotPlain: constants, the names of plain
    values, arithmetic on numbers, sequences joined or repeated, and tuples, lists, sets
    and dicts of them; all small."""
    if isinstance(node, ast.Constant) and type(node.value) in (*_NUMBERS, str, bytes, type(None)):
        return node.value
    if isinstance(node, ast.Name) and node.id in values:
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        if isinstance(node.op, ast.Not):
            return not operand
        if type(operand) in _NUMBERS and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _binary(node.op, _evaluate(node.left, values), _evaluate(node.right, values))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) <= MAX_VALUE:
        items = [_evaluate(e, values) for e in node.elts]
        if isinstance(node, ast.Set):
            return _hashed(lambda: set(items))
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict) and None not in node.keys and len(node.keys) <= MAX_VALUE:
        pairs = [(_evaluate(k, values), _evaluate(v, values)) for k, v in zip(node.keys, node.values) if k is not None]
        return _hashed(lambda: dict(pairs))
    raise _NotPlain


_NUMBERS = (bool, int, float, complex)
_SEQUENCES = (str, bytes, tuple, list)


def _binary(op: ast.operator, left: Any, right: Any) -> Any:
    """Arithmetic on two numbers, or a sequence joined to one of its kind or repeated a
    whole number of times; _NotPlain for anything else (str % formatting among them) and
    for what would be too large."""
    numbers = type(left) in _NUMBERS and type(right) in _NUMBERS
    if numbers and isinstance(op, ast.Pow):
        if type(right) not in (bool, int, float) or abs(right) > 64:
            raise _NotPlain
        if type(left) in (bool, int) and abs(left).bit_length() * abs(right) > 4096:
            raise _NotPlain
    elif not numbers:
        joined = isinstance(op, ast.Add) and type(left) is type(right) and type(left) in _SEQUENCES
        repeats = [v for v in (left, right) if type(v) in (bool, int)]
        sequence = [v for v in (left, right) if type(v) in _SEQUENCES]
        repeated = isinstance(op, ast.Mult) and len(repeats) == len(sequence) == 1
        if not (joined or repeated):
            raise _NotPlain
        if len(sequence[0] if repeated else left) * (max(repeats[0], 0) if repeated else 2) > 2 * MAX_VALUE:
            raise _NotPlain
    try:
        result = _OPERATORS[type(op)](left, right)
    except (ArithmeticError, TypeError, ValueError):
        raise _NotPlain from None
    if type(result) is int and result.bit_length() > MAX_INT_BITS:
        raise _NotPlain
    if type(result) in _SEQUENCES and len(result) > MAX_VALUE:
        raise _NotPlain
    return result


def _hashed(make: Callable[[], Any]) -> Any:
    """A set or dict of these items, or _NotPlain where one cannot be a key."""
    try:
        return make()
    except TypeError:
        raise _NotPlain from None


def _is_function(found: Definition | Left | None) -> TypeGuard[Definition]:
    return isinstance(found, Definition) and found.kind == "function"


def _unpacked(target: ast.expr, value: Any) -> list[tuple[str, Any]]:
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(value, (tuple, list))
        and len(target.elts) == len(value)
        and not any(isinstance(e, ast.Starred) for e in target.elts)
    ):
        return [pair for e, v in zip(target.elts, value) for pair in _unpacked(e, v)]
    raise _NotPlain


def _bound_names(node: ast.stmt) -> list[str]:
    """The global names a top-level statement binds, outside the functions and classes in it."""
    found: list[str] = []
    stack: list[ast.AST] = [node]
    while stack:
        sub = stack.pop()
        if sub is not node and isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if not isinstance(sub, ast.Lambda):
                found.append(sub.name)
            continue
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            found.append(sub.id)
        elif isinstance(sub, ast.alias):
            found.append(sub.asname or sub.name.split(".")[0])
        elif isinstance(sub, _NAMING) and getattr(sub, "name", None):
            found.append(sub.name)
        stack += [c for c in ast.iter_child_nodes(sub) if not isinstance(c, ast.comprehension)]
    return list(dict.fromkeys(found))


def from_notebooks(paths: list[Path]) -> Assembly:
    """The student modules the notebooks at `paths` define, read in the order given."""
    many = len(paths) > 1
    placed = [(cell, f"{cell.place} of {path.name}" if many else cell.place) for path in paths for cell in read(path)]
    namespace = Namespace(placed)
    functions = namespace.functions()
    notes = list(namespace.notes)
    for function, bindings in namespace.defined.items():
        if len(bindings) > 1 and function in functions:
            notes.append(_bound_again(function, bindings))
    for (checked, function), place in _tries(namespace, functions).items():
        notes.append(tried(checked, function, place))
    others = [n for n, d in namespace.bound.items() if _is_function(d)]
    return assemble(functions, namespace.resolve, ", ".join(p.name for p in paths), notes, others)


def _bound_again(function: str, bindings: list[tuple[str, str]]) -> str:
    """The note on an exercise function bound in several cells: each cell, said as what it
    does (`def`s of its own, or setting it to another function), and which one counts."""
    phrases: list[tuple[str, list[str]]] = []  # what is done -> the cells that do it, in runs
    for place, other in bindings:
        verb = f"set to {other}" if other else "defined"
        if phrases and phrases[-1][0] == verb:
            phrases[-1][1].append(place)
        else:
            phrases.append((verb, [place]))
    said = ", then ".join(f"{verb} in {_listed(list(dict.fromkeys(cells)))}" for verb, cells in phrases)
    return f"{function} is {said}: the last, in {bindings[-1][0]}, is graded, as when the notebook runs top to bottom"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _tries(namespace: Namespace, functions: dict[str, Definition]) -> dict[tuple[str, str], str]:
    """The check calls that graded a function other than the one handed in for their id:
    (the function checked, the id's function) -> the first cell that does."""
    found: dict[tuple[str, str], str] = {}
    for place, function, checked in namespace.checks:
        mine = namespace.bound.get(checked)
        while isinstance(mine, Definition) and mine.aliased is not None:
            mine = mine.aliased
        if mine is None or functions.get(function) is not mine:
            found.setdefault((checked, function), place)
    return found
