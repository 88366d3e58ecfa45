"""From what a notebook defines to the modules the grader grades.

A notebook, read from its file (cells.py) or from a running kernel (live.py), is a set
of definitions: functions, imports and plain values, each with the cell it came from.
`assemble` takes the exercise functions among them and everything they read, directly
or through their helpers, and writes each student module as a module of .py files
would hold it, with the origins of its lines (origins.py) and notes on what it had to
leave behind: grading then goes on as for any folder of modules.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import symtable
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from grader.exercises import catalogue
from grader.handins.origins import Origins, Span

HEADER = "# Written by backprop-ninja from a notebook: its exercise functions and what they read.\n"
# Exercise function -> its module, for every function a student writes.
DefinitionKind = Literal["import", "value", "function"]
KINDS: tuple[DefinitionKind, ...] = get_args(DefinitionKind)  # the order a module holds them in
MAX_VALUES = 2**20  # characters of the plain values a notebook's functions may take along, in all
MAX_NOTES = 20


@dataclass(frozen=True)
class Definition:
    """One name a notebook defines at its top level, as source that defines it again."""

    name: str
    kind: DefinitionKind
    source: str  # complete statements that bind `name`
    place: str = ""  # the cell it came from ("cell 7", "Cell In[5]"); "" when it has none
    line: int = 1  # the line of that cell where `source` begins
    reads: frozenset[str] = frozenset()  # the global names it reads
    aliased: Definition | None = None  # for `f = g`: g's definition
    order: int = 0  # where it stands in the notebook: a module holds its functions in that order
    remark: str = ""  # what a student should know of it where it travels ("a tensor of the notebook")


@dataclass(frozen=True)
class Left:
    """A name an exercise function reads that cannot travel with it, and why."""

    name: str
    why: str  # "set in cell 4 by code the grader does not run", ...
    fix: str = "take it from the function's arguments: the grader runs your functions without the rest of the notebook"


ARGUMENTS_FIX = Left("", "").fix

Resolve = Callable[[str], "Definition | Left | None"]


@dataclass(frozen=True)
class Assembly:
    """The modules written from a notebook, where their lines came from, and what the
    grader noticed on the way."""

    texts: dict[str, str]  # module -> source
    origins: Origins
    notes: tuple[str, ...]
    found: tuple[str, ...]  # the exercise functions it holds

    def to_data(self) -> dict[str, Any]:
        """Plain data, for JSON: what a child process that read the notebook answers."""
        spans = {m: [dataclasses.asdict(span) for span in found] for m, found in self.origins.spans.items()}
        origins = {"name": self.origins.name, "spans": spans, "renamed": dict(self.origins.renamed)}
        return {"texts": self.texts, "origins": origins, "notes": list(self.notes), "found": list(self.found)}

    @classmethod
    def from_data(cls, data: Any) -> Assembly:
        """An Assembly from what to_data gave, checked field by field (it comes from a
        process that read untrusted bytes)."""
        try:
            texts = {str(m): str(t) for m, t in data["texts"].items() if str(m) in catalogue.MODULES}
            given = data["origins"]
            spans = {
                str(m): tuple(Span(int(s["start"]), int(s["end"]), str(s["place"]), int(s["line"])) for s in found)
                for m, found in given["spans"].items()
            }
            origins = Origins(str(given["name"]), spans, {str(k): str(v) for k, v in given["renamed"].items()})
            return cls(texts, origins, tuple(map(str, data["notes"])), tuple(map(str, data["found"])))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"the notebook's reading gave malformed data ({error})") from None

    def write(self, folder: Path) -> Path:
        """Write the modules into `folder`; the folder."""
        folder.mkdir(parents=True, exist_ok=True)
        for module, text in self.texts.items():
            (folder / f"{module}.py").write_text(text, encoding="utf-8")
        return folder

    def written(self) -> Path:
        """The modules, in a new temporary folder (the caller removes it)."""
        return self.write(Path(tempfile.mkdtemp(prefix="backprop-ninja-notebook-")))


def assemble(
    functions: dict[str, Definition],
    resolve: Resolve,
    name: str,
    notes: Iterable[str] = (),
    candidates: Iterable[str] = (),
) -> Assembly:
    """The student modules holding `functions` (exercise function -> the definition that
    becomes it, which may go by another name), each with every definition it reads
    through `resolve`. `name` is how messages name the notebook; `candidates` are the
    other functions it defines, offered where an exercise function is misspelled."""
    unknown = sorted(set(functions) - set(catalogue.FUNCTIONS))
    if unknown:
        raise ValueError(f"not exercise functions: {', '.join(unknown)}")
    notes = list(notes)
    left: dict[Definition | Left, list[str]] = {}  # what travelled with a remark, or stayed behind -> its readers
    budget = [MAX_VALUES]  # characters of plain values all the modules may still take
    candidates = [c for c in candidates if c not in catalogue.FUNCTIONS]
    texts, spans = {}, {}
    renamed = {f: d.name for f, d in functions.items() if f != d.name}
    for module in catalogue.MODULES:
        mine = {f: d for f, d in functions.items() if catalogue.FUNCTIONS[f] == module}
        missing = [f for f, m in catalogue.FUNCTIONS.items() if m == module and f not in mine]
        near = {c for f in missing for c in difflib.get_close_matches(f, candidates, 1, 0.85)}
        taken = _closure(
            [*mine.values(), *filter(None, (_definition(resolve, c) for c in sorted(near)))], resolve, left, budget
        )
        texts[module], spans[module] = _render(module, name, mine, taken)
    notes += _remarks(left)
    if len(notes) > MAX_NOTES:
        notes = [*notes[:MAX_NOTES], f"and {len(notes) - MAX_NOTES:,} more notes like these"]
    return Assembly(texts, Origins(name, spans, renamed), tuple(notes), tuple(sorted(functions)))


def _remarks(found: dict[Definition | Left, list[str]]) -> list[str]:
    """One note per reason and readers: the names that stayed behind (or travelled with a
    remark), why, who reads them, and what to do."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for what, readers in found.items():
        why, fix = (what.why, what.fix) if isinstance(what, Left) else (what.remark, "")
        groups.setdefault((why, fix, tuple(sorted(set(readers)))), []).append(what.name)
    notes = []
    for (why, fix, who), names in groups.items():
        verb = (
            ("travel" if len(names) > 1 else "travels")
            if not fix
            else "stay behind"
            if len(names) > 1
            else "stays behind"
        )
        if fix == ARGUMENTS_FIX and set(who) <= {"manual_backward", "mlp_backward"}:
            fix = f"take {'them' if len(names) > 1 else 'it'} from fwd ({', '.join(f'fwd.{n}' for n in names[:4])}{', ...' if len(names) > 4 else ''})"
        notes.append(f"{', '.join(names)} ({why}), read by {', '.join(who)}, {verb}" + (f": {fix}" if fix else ""))
    return notes


def stand_in(name: str, error: Exception, place: str = "", line: int = 1) -> Definition:
    """A function the grader cannot take as written (its cell does not compile, its
    source cannot be read): called, it raises what is wrong with it."""
    return Definition(name, "function", f"def {name}(*args, **kwargs):\n    raise {error!r}\n", place, line)


def _definition(resolve: Resolve, name: str) -> Definition | None:
    found = resolve(name)
    return found if isinstance(found, Definition) else None


def _closure(
    roots: list[Definition], resolve: Resolve, left: dict[Definition | Left, list[str]], budget: list[int]
) -> list[Definition]:
    """The roots and every definition they read, directly or through others; what they
    read that cannot travel (plain values past the `budget` of characters among them)
    goes into `left`, with its readers."""
    taken: dict[str, Definition] = {}
    queue = list(roots)
    while queue:
        definition = queue.pop(0)
        if definition.name in taken:
            continue
        taken[definition.name] = definition
        for read in sorted(definition.reads - taken.keys()):
            found = resolve(read)
            if isinstance(found, Definition) and found.kind == "value":
                budget[0] -= len(found.source)
                if budget[0] < 0:
                    found = Left(
                        found.name,
                        f"a value too large to travel with a function, with the others: "
                        f"{MAX_VALUES:,} characters at most",
                        "compute it in the function",
                    )
            if isinstance(found, Definition):
                queue.append(found)
                if found.remark:
                    left.setdefault(found, []).append(definition.name)
            elif isinstance(found, Left):
                left.setdefault(found, []).append(definition.name)
    return list(taken.values())


def _render(
    module: str, name: str, mine: dict[str, Definition], taken: list[Definition]
) -> tuple[str, tuple[Span, ...]]:
    """The module's text: its imports, values and functions in that order (each kind in
    the notebook's order), then the exercise functions that go by another name bound
    to theirs; and the spans of the lines that came from cells."""
    lines = HEADER.splitlines()
    spans = []
    ordered = sorted(taken, key=lambda d: (KINDS.index(d.kind), d.order))
    for d in ordered:
        source = d.source
        exported = [f for f, m in mine.items() if m is d and f != d.name]
        if exported and d.kind == "function":
            source = _renamed(source, d.name, exported[0])  # so that the source scans find the def by its name
        lines.append("")
        start = len(lines) + 1
        lines += source.rstrip("\n").split("\n")  # Python's line ends only: U+2028 in a comment is no line end
        if d.place:
            spans.append(Span(start, len(lines), d.place, d.line))
        if exported and d.kind == "function":
            lines.append(f"{d.name} = {exported[0]}")  # the function may call itself by its own name
        lines += [f"{other} = {d.name}" for other in (exported[1:] if d.kind == "function" else exported)]
    return "\n".join(lines) + "\n", tuple(spans)


def _renamed(source: str, old: str, new: str) -> str:
    return re.sub(rf"^(\s*(?:async\s+)?def\s+){re.escape(old)}\b", rf"\g<1>{new}", source, count=1, flags=re.MULTILINE)


MAX_LITERAL = 64 * 1024  # characters of a plain value's source


def literal(value: object) -> str | None:
    """Source that evaluates to `value`, for plain data (numbers, strings, bytes, None,
    and tuples, lists, sets and dicts of them); None for anything else, or too large.
    Its cost is bounded by the largest text it gives, whatever `value` holds: a list
    repeated by reference is written out as far as that, and no further."""
    left = [MAX_LITERAL]
    text = _literal(value, 0, left)
    return text if text is not None and left[0] >= 0 else None


def _literal(value: object, depth: int, left: list[int]) -> str | None:
    """`left`: the characters still to give; once it goes below zero, everything
    returns None at once."""
    if depth > 10 or left[0] < 0:
        return None
    container = type(value) in (tuple, list, set, frozenset, dict)
    if container:  # its brackets and separators; its items count themselves
        left[0] -= 16 + 4 * len(value)  # type: ignore[arg-type]  # a container: it has a length
        if left[0] < 0:
            return None
    text = _plain(value, depth, left)
    if text is not None and not container:
        left[0] -= len(text)
    return text if left[0] >= 0 else None


def _plain(value: object, depth: int, left: list[int]) -> str | None:
    if type(value) is int and value.bit_length() > 4096:
        return None  # Python writes no int past 4,300 digits
    if value is None or type(value) in (bool, int, str, bytes):
        return repr(value)
    if type(value) is float:
        return repr(value) if math.isfinite(value) else f'float("{value}")'
    if type(value) is complex:
        return repr(value) if all(map(math.isfinite, (value.real, value.imag))) else None
    if (
        isinstance(value, (tuple, list, set, frozenset))
        and type(value) in (tuple, list, set, frozenset)
        and (len(value) <= MAX_LITERAL)
    ):
        items = []
        for v in value:
            item = _literal(v, depth + 1, left)
            if item is None:
                return None
            items.append(item)
        inner = ", ".join(items)
        if type(value) is tuple:
            return f"({inner}{',' if len(items) == 1 else ''})"
        if type(value) is list:
            return f"[{inner}]"
        return f"{type(value).__name__}([{inner}])"
    if type(value) is dict and len(value) <= MAX_LITERAL:
        pairs = []
        for k, v in value.items():
            key, item = _literal(k, depth + 1, left), _literal(v, depth + 1, left)
            if key is None or item is None:
                return None
            pairs.append(f"{key}: {item}")
        return "{" + ", ".join(pairs) + "}"
    return None


def global_reads(source: str) -> frozenset[str]:
    """The global names that top-level `source` (a def, a class) reads when it runs and
    when it is defined (decorators, defaults), builtins included: a notebook may rebind
    them."""
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    bound = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    found = {s.get_name() for s in table.get_symbols() if s.is_referenced()} - bound
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        found |= {s.get_name() for s in scope.get_symbols() if s.is_global() and (s.is_referenced() or s.is_assigned())}
        stack += scope.get_children()
    return frozenset(found - bound)
