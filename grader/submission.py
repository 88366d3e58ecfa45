"""Load a student's modules from a folder and call their functions, turning everything
that can go wrong into a `Failure` with a message a student can act on."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from grader.catalogue import Values


@dataclass(frozen=True)
class Failure:
    """Why a call gave no value to grade."""

    # missing_module, import_error, missing_function, not_implemented, exception,
    # mutated_input, or bad_return (a value the grader cannot use)
    kind: str
    message: str  # one line for the student
    detail: str = ""  # the traceback, for -v and the instructor's report


@dataclass(frozen=True)
class Call:
    """What one call of a student's function gave: a value, or a failure."""

    value: Any = None
    failure: Failure | None = None
    output: str = ""  # what the function printed, cut at OUTPUT_LIMIT characters


OUTPUT_LIMIT = 2000


class _Bounded(io.StringIO):
    """Keeps the first OUTPUT_LIMIT characters written to it and counts the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    def write(self, text: str) -> int:
        room = max(OUTPUT_LIMIT - self.tell(), 0)
        self.dropped += max(len(text) - room, 0)
        return super().write(text[:room]) + max(len(text) - room, 0)

    def text(self) -> str:
        more = f"\n... ({self.dropped} more characters)" if self.dropped else ""
        return self.getvalue() + more


@contextlib.contextmanager
def _captured() -> Iterator[_Bounded]:
    """Keep what student code prints off the grader's own output (a JSON report on
    stdout must stay valid JSON)."""
    buffer = _Bounded()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        yield buffer


class Submission:
    """A folder holding some or all of the student modules, imported on first use."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder).resolve()
        self._modules: dict[str, ModuleType | Failure] = {}

    def module(self, name: str) -> ModuleType | Failure:
        if name not in self._modules:
            self._modules[name] = self._import(name)
        return self._modules[name]

    def _import(self, name: str) -> ModuleType | Failure:
        path = self.folder / f"{name}.py"
        if not path.is_file():
            return Failure("missing_module", f"{name}.py not found in {self.folder}")
        unique = f"backprop_ninja_submission_{id(self)}_{name}"
        spec = importlib.util.spec_from_file_location(unique, path)
        module = importlib.util.module_from_spec(spec)
        # The folder goes on the path so that a student's modules can import each other.
        sys.path.insert(0, str(self.folder))
        before = set(sys.modules)
        try:
            with _captured():
                spec.loader.exec_module(module)
        except SyntaxError as error:
            where = f"{Path(error.filename or path).name}, line {error.lineno}"
            return Failure("import_error", f"{name}.py does not compile: {error.msg} ({where})", _traceback(error))
        except (Exception, SystemExit) as error:  # noqa: BLE001 - any failure of student code is reported
            return Failure("import_error", f"{name}.py failed to import: {describe(error, self.folder)}", _traceback(error))
        finally:
            sys.path.remove(str(self.folder))
            self._forget_modules_from_folder(set(sys.modules) - before)
        return module

    def _forget_modules_from_folder(self, names: set[str]) -> None:
        """Modules a student's module imported from its own folder are dropped from the
        cache, so that the next submission graded in this process gets its own."""
        for name in names:
            file = getattr(sys.modules.get(name), "__file__", None) or ""
            if Path(file).resolve().parent == self.folder:
                del sys.modules[name]

    def call(self, module: str, function: str, arguments: Mapping[str, Any], as_fwd: bool = False) -> Call:
        """Call `module.function` with the arguments in order, or with one read-only `fwd`
        holding them all; fail it if it changes any of them."""
        loaded = self.module(module)
        if isinstance(loaded, Failure):
            return Call(failure=loaded)
        fn = getattr(loaded, function, None)
        if not callable(fn):
            return Call(failure=Failure("missing_function", f"{module}.py has no function {function}"))
        pristine = {k: v.clone() for k, v in arguments.items() if isinstance(v, torch.Tensor)}
        args = (Values(arguments),) if as_fwd else tuple(arguments.values())
        with _captured() as printed:
            try:
                with torch.no_grad():
                    value = fn(*args)
            except NotImplementedError as error:
                return Call(failure=Failure("not_implemented", "not implemented yet", _traceback(error)))
            except (Exception, SystemExit) as error:  # noqa: BLE001 - any failure of student code is reported
                failure = Failure("exception", describe(error, self.folder), _traceback(error))
                return Call(failure=failure, output=printed.text())
        changed = [k for k, v in pristine.items() if not torch.equal(arguments[k], v)]
        if changed:
            what = ", ".join(f"fwd.{k}" if as_fwd else k for k in changed)
            return Call(failure=Failure(
                "mutated_input",
                f"{function} modified its input {what} in place: work on a copy (.clone()) or use out-of-place ops",
            ), output=printed.text())  # fmt: skip
        return Call(value=value, output=printed.text())


def describe(error: BaseException, folder: Path) -> str:
    """The exception and the line of the student's code it came from."""
    text = f"{type(error).__name__}: {error}".rstrip(": ")
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve().parent == folder]
    if frames:
        last = frames[-1]
        text += f" ({Path(last.filename).name}, line {last.lineno}, in {last.name})"
    return text


def _traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))
