"""Load a student's modules from a folder and call their functions, turning everything
that can go wrong into a `Failure` with a message a student can act on.

This runs wherever student code runs: in a sealed worker process (worker.py), where the
seal alone decides whether a call used autograd, or in the grader's own process with
--no-sandbox (inprocess.py), where each call runs under an InProcessGuard. Tracebacks
are read through the seal (seal.frames): in a sealed worker nothing else may read a frame.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import importlib.util
import io
import linecache
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import torch

from grader.calls.call import Call, Failure, Watch
from grader.calls.limits import Limits
from grader.exercises import catalogue
from grader.exercises.catalogue import TRAINING, Values
from grader.sandbox import differentiators, seal
from grader.sandbox.guard import ADVICE, InProcessGuard, Refusal

if TYPE_CHECKING:
    from grader.exercises.training import Check

KEPT_OUTPUT = 2000  # characters of a call's output kept for the feedback


class _Bounded(io.StringIO):
    """Keeps the first KEPT_OUTPUT characters written to it and counts them all."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def write(self, text: str) -> int:
        self.total += len(text)
        room = max(KEPT_OUTPUT - self.tell(), 0)
        super().write(text[:room])
        return len(text)

    def text(self) -> str:
        dropped = self.total - self.tell()
        return self.getvalue() + (f"\n... ({dropped} more characters)" if dropped > 0 else "")


@contextlib.contextmanager
def _captured() -> Iterator[_Bounded]:
    """Keep what student code prints off the grader's own output (a JSON report on
    stdout must stay valid JSON)."""
    buffer = _Bounded()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        yield buffer


class StudentCode:
    """A folder holding some or all of the student modules, imported on first use, in
    the process that runs student code: a sealed worker (`sealed`), or the grader's own,
    where each call runs under an InProcessGuard."""

    def __init__(self, folder: Path | str, limits: Limits, label: str = "", sealed: bool = False):
        self.folder = Path(folder).resolve()
        self.limits = limits
        self.label = label or str(self.folder)  # how messages name the submission
        self.sealed = sealed
        # In a worker, sys.exit and KeyboardInterrupt can only come from student code;
        # in the grader's own process, Ctrl-C must still stop the grader.
        self._exits = (SystemExit, KeyboardInterrupt) if sealed else (SystemExit,)
        self._modules: dict[str, ModuleType | Failure] = {}

    def module(self, name: str) -> ModuleType | Failure:
        if name not in self._modules:
            self._modules[name] = self._import(name)
        return self._modules[name]

    def _import(self, name: str) -> ModuleType | Failure:
        path = self.folder / f"{name}.py"
        if not path.is_file():
            return Failure("missing_module", f"{name}.py not found in {self.label}")
        unique = f"backprop_ninja_submission_{id(self)}_{name}"
        spec = importlib.util.spec_from_file_location(unique, path)
        if spec is None or spec.loader is None:
            return Failure("missing_module", f"{name}.py cannot be loaded as a module from {self.label}")
        module = importlib.util.module_from_spec(spec)
        # The folder goes on the path so that a student's modules can import each other.
        sys.path.insert(0, str(self.folder))
        before = set(sys.modules)
        try:
            with _captured(), self._guarded() as guard:
                spec.loader.exec_module(module)
        except SyntaxError as error:
            where = f"{Path(error.filename or path).name}, line {error.lineno}"
            return Failure(
                "import_error", f"{name}.py does not compile: {error.msg} ({where})", _traceback(error, self.folder)
            )
        except (Exception, *self._exits) as error:  # noqa: BLE001 - any failure of student code is reported
            failure = self._failure(error)
            return Failure(
                "import_error" if failure.kind == "exception" else failure.kind,
                f"{name}.py failed to import: {failure.message}",
                failure.detail,
            )
        finally:
            sys.path.remove(str(self.folder))
            self._forget_modules_from_folder(set(sys.modules) - before)
        if guard is not None and guard.evidence:
            return uses_autograd(guard.evidence, f"{name}.py, while importing,")
        return module

    def _forget_modules_from_folder(self, names: set[str]) -> None:
        """Modules a student's module imported from its own folder are dropped from the
        cache, so that the next submission graded in this process gets its own."""
        for name in names:
            file = getattr(sys.modules.get(name), "__file__", None) or ""
            if Path(file).resolve().parent == self.folder:
                del sys.modules[name]

    @contextlib.contextmanager
    def _guarded(self, watch: Watch = ()) -> Iterator[InProcessGuard | None]:
        """Around one call of student code: nothing in a sealed worker (the seal counts
        for the whole request), an InProcessGuard in the grader's own process."""
        if self.sealed:
            yield None
            return
        with InProcessGuard(watch).watching() as guard:
            yield guard

    def call(
        self,
        module: str,
        function: str,
        arguments: Mapping[str, Any],
        as_fwd: bool = False,
        limits: Limits | None = None,
        watch: Watch = (),
    ) -> Call:
        """Call `module.function` with the arguments in order, or with one read-only `fwd`
        holding them all; fail it if it changes an argument or prints past the limit (and,
        in this process, if it uses autograd)."""
        limits = limits or self.limits
        fn = self.function(module, function)
        if isinstance(fn, Failure):
            return Call(failure=fn)
        pristine = {k: v.clone() for k, v in arguments.items() if isinstance(v, torch.Tensor)}
        args = (Values(arguments),) if as_fwd else tuple(arguments.values())
        value, failure, seconds = None, None, 0.0
        with _captured() as printed, self._guarded(watch) as guard:
            try:
                start = time.perf_counter()
                value = fn(*args)
                seconds = time.perf_counter() - start
            except (Exception, *self._exits) as error:  # noqa: BLE001 - any failure of student code is reported
                failure = self._failure(error, limits)
        output = printed.text()
        evaluations = guard.evaluations if guard is not None else {}
        if guard is not None and guard.evidence:
            failure = uses_autograd(guard.evidence)
        elif printed.total > limits.output * 1024:
            failure = Failure(
                "output_limit",
                (
                    f"{function} printed {printed.total / 1024:,.0f} KB, more than the {limits.output} KB output "
                    "limit: remove the prints"
                ),
            )
        elif failure is None:
            changed = [k for k, v in pristine.items() if not _unchanged(arguments[k], v)]
            if changed:
                what = ", ".join(f"fwd.{k}" if as_fwd else k for k in changed)
                failure = Failure(
                    "mutated_input",
                    f"{function} modified its input {what} in place: work on a copy (.clone()) or use out-of-place ops",
                )
        if failure:
            return Call(failure=failure, output=output, evaluations=evaluations)
        return Call(value=value, output=output, seconds=seconds, aliases=shared_memory(value), evaluations=evaluations)

    def time(self, module: str, function: str, arguments: Mapping[str, Any], as_fwd: bool, repeats: int) -> Call:
        """Call a function that was right `repeats` times on the same arguments, for the
        timing step: whoever runs this measures its CPU time, the fixed costs of a call
        (decoding, copies) spread over the repeats. The Call's value is what the first
        call returned, for the grader to check; a later call that returns anything else
        fails it. Its seconds are this process's CPU time per call."""
        fn = self.function(module, function)
        if isinstance(fn, Failure):
            return Call(failure=fn)
        args = (Values(arguments),) if as_fwd else tuple(arguments.values())
        with _captured(), self._guarded() as guard:
            start = time.process_time()
            try:
                first = fn(*args)
                for repeat in range(1, repeats):
                    again = fn(*args)
                    if not _same(first, again):
                        return Call(failure=Failure("exception", _different(function, repeat)))
            except (Exception, *self._exits) as error:  # noqa: BLE001 - any failure of student code is reported
                return Call(failure=self._failure(error))
            seconds = (time.process_time() - start) / repeats
        if guard is not None and guard.evidence:
            return Call(failure=uses_autograd(guard.evidence))
        return Call(value=first, seconds=seconds)

    def function(self, module: str, function: str) -> Callable[..., Any] | Failure:
        loaded = self.module(module)
        if isinstance(loaded, Failure):
            return loaded
        fn = getattr(loaded, function, None)
        if not callable(fn):
            others = [k for k, v in vars(loaded).items() if callable(v) and k not in catalogue.FUNCTIONS]
            near = difflib.get_close_matches(function, others, 1, 0.85)
            spelled = f" (it has {near[0]}: a misspelling?)" if near else ""
            return Failure("missing_function", f"{module}.py has no function {function}{spelled}")
        return fn

    def train(
        self,
        words: list[str],
        config: dict[str, Any],
        progress: Callable[[dict[str, Any]], None] | None = None,
        check: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Call:
        """Train the lecture's network with this submission's mlp_backward (train.py); the
        Call's value holds the run's figures. `check` compares a step with autograd, where
        autograd may run."""
        from grader.exercises import training as train

        fn = self.function(TRAINING.module, TRAINING.function)
        if isinstance(fn, Failure):
            return Call(failure=fn)
        data = train.dataset(words, config["B"])
        guarded = contextlib.nullcontext((fn, check)) if self.sealed else _run_guarded(fn, check)
        with guarded as (backward, checked), _captured() as printed:
            start = time.perf_counter()
            result = train.run(
                backward, data, train.Config(**config), progress, lambda error: describe(error, self.folder), checked
            )
        return Call(value=result, output=printed.text(), seconds=time.perf_counter() - start)

    def _failure(self, error: BaseException, limits: Limits | None = None) -> Failure:
        limits = limits or self.limits
        detail = _traceback(error, self.folder)
        if isinstance(error, NotImplementedError):
            return Failure("not_implemented", "not implemented yet", detail)
        if (
            isinstance(error, MemoryError)
            or "can't allocate memory" in str(error)
            or "DefaultCPUAllocator" in str(error)
        ):
            return Failure(
                "memory",
                (f"ran out of memory (the limit is {limits.memory} MB): {describe(error, self.folder)}"),
                detail,
            )
        if isinstance(error, SystemExit):
            return Failure("exited", f"called sys.exit({error.code!r}): return the gradient instead", detail)
        if isinstance(error, SyntaxError):  # code that does not compile, whatever the sizes: as at import
            return Failure("import_error", describe(error, self.folder), detail)
        if isinstance(error, KeyboardInterrupt):
            return Failure("exited", f"raised KeyboardInterrupt ({describe(error, self.folder)})", detail)
        message = describe(error, self.folder)
        if isinstance(error, OSError) and error.errno in (errno.EPERM, errno.EACCES):
            message += ": the grader runs your code without files, processes or network; a backward pass needs none"
        return Failure("exception", message, detail, student_line(error, self.folder))


@contextlib.contextmanager
def _run_guarded(fn: Callable[..., Any], check: Check | None) -> Iterator[tuple[Callable[..., Any], Check | None]]:
    """`fn` and `check` for a training run in the grader's own process. Torch's gradient
    operators refuse for the whole run, and for its own checks against autograd (`check`)
    they are let be: a dispatch mode watching every operator of every call, as a graded
    call has, made a step 65% slower. Each call runs with autograd off, and fails when it
    called a refused operator, even one whose refusal it caught. (A graph it records
    moves autograd's node counter, which the run reads itself.)"""
    refused: list[str] = []
    refusal = Refusal(differentiators.gradient_operators(), refused)

    def guarded(*args: Any) -> Any:
        with torch.no_grad():
            value = fn(*args)
        if refused:
            raise AutogradUsed(uses_autograd(refused).message)
        return value

    def checked(values: dict[str, Any]) -> dict[str, Any]:
        with refusal.lifted():
            return check(values) if check is not None else {}

    with refusal:
        yield guarded, checked if check is not None else None


class AutogradUsed(RuntimeError):
    """A call of the training run, in the grader's own process, used autograd."""


def _same(first: Any, again: Any) -> bool:
    """Whether two returns of one call are the same gradients."""
    if isinstance(first, torch.Tensor) or isinstance(again, torch.Tensor):
        return (
            isinstance(first, torch.Tensor)
            and isinstance(again, torch.Tensor)
            and first.shape == again.shape
            and bool(torch.equal(first.detach(), again.detach()))
        )
    if isinstance(first, dict) and isinstance(again, dict):
        return first.keys() == again.keys() and all(_same(first[k], again[k]) for k in first)
    if isinstance(first, (tuple, list)) and isinstance(again, (tuple, list)):
        return len(first) == len(again) and all(_same(a, b) for a, b in zip(first, again))
    return type(first) is type(again)


def _different(function: str, repeat: int) -> str:
    return (
        f"{function} returned other gradients when called again on the same inputs (call {repeat + 1} of the "
        "timing step): a backward pass returns the same gradients every time"
    )


def shared_memory(value: Any) -> tuple[tuple[str, str], ...]:
    """The pairs of returned tensors that are one tensor (by dict key, or by position in
    a tuple or list): returned twice, or a += into a tensor another gradient still refers
    to. A view of another shape (demb = dembcat.view(...)) is not one. Only here can it be
    seen: a reply carries copies."""
    if isinstance(value, dict):
        entries = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, (tuple, list)):
        entries = [(str(i), v) for i, v in enumerate(value)]
    else:
        return ()
    tensors = [
        (k, (v.data_ptr(), v.shape, v.stride())) for k, v in entries if isinstance(v, torch.Tensor) and v.numel()
    ]
    return tuple((a, b) for i, (a, pa) in enumerate(tensors) for b, pb in tensors[i + 1 :] if pa == pb)


def _unchanged(now: torch.Tensor, before: torch.Tensor) -> bool:
    """Whether an argument is as it was: equal entries, nan where it was nan (a training
    run gone to nan hands on nan values, which no change made)."""
    if torch.equal(now, before):
        return True
    if not before.is_floating_point() or now.shape != before.shape:
        return False
    return bool(((now == before) | (now.isnan() & before.isnan())).all())


def uses_autograd(evidence: list[str], who: str = "") -> Failure:
    return Failure("uses_autograd", f"uses autograd ({who + ' ' if who else ''}it {'; it '.join(evidence)}): {ADVICE}")


def describe(error: BaseException, folder: Path) -> str:
    """The exception and the line of the student's code it came from."""
    text = f"{type(error).__name__}: {error}".rstrip(": ")
    frames = _students_frames(error, folder)
    if frames and not (isinstance(error, SyntaxError) and error.filename):  # it names its own place
        filename, line, name = frames[-1]
        text += f" ({Path(filename).name}, line {line}, in {name})"
    return text


def student_line(error: BaseException, folder: Path) -> int:
    """The line of the student's code the exception came from, or 0."""
    frames = _students_frames(error, folder)
    return frames[-1][1] if frames else 0


def _students_frames(error: BaseException, folder: Path) -> list[tuple[str, int, str]]:
    return [f for f in seal.frames(error.__traceback__) if Path(f[0]).resolve().parent == folder]


def _traceback(error: BaseException, folder: Path | None = None) -> str:
    """The exception's traceback from the student's first frame on: the grader's own
    frames that called it say nothing to a student. Code that does not compile shows its
    line, not the frames that compiled it."""
    last = f"{type(error).__name__}: {error}".rstrip(": ") + "\n"
    if isinstance(error, SyntaxError) and error.filename:
        text = (error.text or "").strip()
        return f'  File "{error.filename}", line {error.lineno}\n' + (f"    {text}\n" if text else "") + last
    frames = seal.frames(error.__traceback__)
    first = next((i for i, f in enumerate(frames) if folder is not None and Path(f[0]).resolve().parent == folder), 0)
    lines = ["Traceback (most recent call last):\n"]
    for filename, line, name in frames[first:]:
        lines.append(f'  File "{filename}", line {line}, in {name}\n')
        source = linecache.getline(filename, line).strip()
        if source:
            lines.append(f"    {source}\n")
    return "".join(lines) + last
