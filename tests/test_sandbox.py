"""Student code is untrusted: each hostile or broken submission below costs its own id,
with the right reason, and nothing else; the run stays within its limits and the report
is always written by the grader.

Every case replaces ex2's cross_entropy_backward (which no other function calls), so
the offending id is ex2.cross_entropy_backward and every other id must score exactly
what the reference solution scores.
"""

import json
import os
import shutil
import sys
import time
from importlib import resources

import jsonschema
import pytest

from grader.exercises import catalogue
from grader.exercises.rubric import TRAINING_ID
from grader.grading.grader import grade
from grader.reporting import reports
from tests.conftest import FULL_MARKS, ID_COUNT, ROOT, SANDBOX_CODES, SOLUTIONS, run_grader

SCHEMA = json.loads((resources.files("grader") / "report.schema.json").read_text())
OFFENDER = "ex2.cross_entropy_backward"
LIMITS = {"wall_time": 2.0, "cpu_time": 1.0, "memory": 256, "output": 64}
RIGHT = "import torch\n_right = cross_entropy_backward\n"  # the reference, kept for cases that return it


def defining(body):
    """A cross_entropy_backward with this body (indented by the caller's convention)."""
    return "def cross_entropy_backward(logits, Yb):\n" + "".join(f"    {line}\n" for line in body.splitlines())


CASES = {
    # name: (code appended to ex2_cross_entropy.py, the offender's status, words in its reason)
    "infinite_loop": (defining("while True:\n    pass"), "error", "CPU-time limit"),
    "long_sleep": (defining("import time\ntime.sleep(600)"), "error", "2 s time limit"),
    "huge_allocation": (defining("return torch.empty(10**12)"), "error", "out of memory"),
    "gradual_allocation": (
        defining("chunks = []\nwhile True:\n    chunks.append(torch.ones(25_000_000))"), "error", "256 MB"),
    "deep_recursion": (
        "def _down(n):\n    return _down(n + 1) + 1\n" + defining("return _down(0)"), "error", "RecursionError"),
    "unbounded_recursion": (  # the recursion limit lifted: frames grow until a limit stops them
        "import sys\ndef _down(n):\n    return _down(n + 1) + 1\n"
        + defining("sys.setrecursionlimit(10**8)\nreturn _down(0)"), "error", "limit"),
    "os_exit": (defining("import os\nos._exit(0)"), "error", "exit status 0"),
    "sys_exit": (defining("import sys\nsys.exit(0)"), "error", "sys.exit(0)"),
    "segfault": (  # a kernel asked for at a key that holds none: a real segmentation fault, no ctypes needed
        defining("torch.ops.aten.tanh.default._op_dk(torch._C.DispatchKey.CompositeExplicitAutograd, logits)"),
        "error", "SIGSEGV"),
    "uses_ctypes": (defining("import ctypes\nreturn ctypes.string_at(id(logits), 8)"), "error", "use ctypes"),
    "keyboard_interrupt": (defining("raise KeyboardInterrupt"), "error", "KeyboardInterrupt"),
    "huge_print": (RIGHT + defining("print('x' * 50_000_000)\nreturn _right(logits, Yb)"), "error", "48,828 KB"),
    "c_level_print": (
        RIGHT + defining("import os\nos.write(1, b'y' * 10_000_000)\nreturn _right(logits, Yb)"),
        "error", "64 KB output limit"),
    "starts_a_thread": (
        defining("import threading\nthreading.Thread(target=lambda: None).start()\nreturn logits * 0"),
        "error", "start a thread"),
    "opens_a_socket": (defining("import socket\nsocket.socket().connect(('127.0.0.1', 9))\nreturn logits * 0"),
                       "error", "Operation not permitted"),
    "writes_a_file": (defining("open('notes.txt', 'w').write('x')\nreturn logits * 0"), "error", "without files"),
    "returns_far_too_much": (defining("return torch.zeros(50_000_000)"), "failed", "far more than"),
    "uses_backward": (
        defining("logits = logits.clone().requires_grad_()\nloss = torch.nn.functional.cross_entropy(logits, Yb)\n"
                 "loss.backward()\nreturn logits.grad"), "failed", "calls .backward()"),
    "hidden_backward": (
        defining("x = logits.clone()\nsetattr(x, 'requires' + '_grad', True)\nwith getattr(torch, 'enable' + '_grad')():\n"
                 "    loss = torch.nn.functional.cross_entropy(x, Yb)\ngetattr(loss, 'back' + 'ward')()\nreturn x.grad"),
        "failed", "record an autograd graph"),
    "autograd_grad_hidden": (
        "import torch.nn.functional as _F\n_g = getattr(torch.autograd, 'gr' + 'ad')\n"
        + defining("x = logits.clone()\nx.requires_grad = True\ntry:\n    with torch.set_grad_enabled(True):\n"
                   "        pass\nexcept RuntimeError:\n    pass\nreturn _g(_F.cross_entropy(x, Yb), x)[0]"),
        "failed", "autograd"),
    "torch_func_grad": (
        "from torch import func as _tf\nimport torch.nn.functional as _F\n"
        + defining("return _tf.grad(lambda x: _F.cross_entropy(x, Yb))(logits)"), "failed", "autograd"),
    "torch_func_jvp": (
        "from torch import func as _tf\n"
        + defining("return _tf.jvp(lambda x: x * 2, (logits,), (torch.ones_like(logits),))[1]"),
        "error", "import torch._decomp"),
    "mutates_input": (RIGHT + defining("out = _right(logits, Yb)\nlogits += 1\nreturn out"),
                      "failed", "modified its input logits"),
    "child_process": (
        RIGHT + defining("import subprocess\nsubprocess.Popen(['sleep', '600'])\nreturn _right(logits, Yb)"),
        "error", "start a program"),
    "monkeypatches_at_import": (
        "import sys\ntorch.allclose = lambda *a, **k: True\ntorch.testing.assert_close = lambda *a, **k: None\n"
        "torch.equal = lambda *a, **k: True\n"
        "for _name, _module in list(sys.modules.items()):\n"
        "    if _name.startswith('grader') and hasattr(_module, 'compare'):\n"
        "        _module.compare = lambda *a, **k: None\n" + defining("return logits * 0"),
        "failed", "all zeros"),
    "walks_the_stack": (
        "import gc, inspect\n" + defining(
            "for frame in inspect.stack():\n"
            "    for value in frame.frame.f_locals.values():\n"
            "        if isinstance(value, torch.Tensor) and value.dtype == torch.float64 and value.shape == logits.shape:\n"
            "            return value\n"
            "for value in gc.get_objects():\n"
            "    if isinstance(value, torch.Tensor) and value.dtype == torch.float64 and value.shape == logits.shape:\n"
            "        return value\n"
            "return None"), "error", "read the call stack"),
    "hangs_at_import": ("import time\ntime.sleep(600)\n", "error", "failed to import: your code ran longer than the 2 s"),
    "crashes_at_import": ("import os\nos._exit(3)\n", "error", "failed to import: your code ended the Python process (exit status 3)"),
    "imports_solutions": ("from solutions.ex2_cross_entropy import cross_entropy_backward\n",
                          "error", "import solutions"),
    "syntax_error": ("def cross_entropy_backward(logits, Yb)\n    return logits\n", "error", "line"),
    "missing_import": ("import no_such_package_for_backprop_ninja\n", "error", "no_such_package_for_backprop_ninja"),
}  # fmt: skip


@pytest.fixture(scope="module")
def rubric(tmp_path_factory):
    path = tmp_path_factory.mktemp("rubric") / "tight.toml"
    path.write_text("[limits]\n" + "".join(f"{k} = {v}\n" for k, v in LIMITS.items()))
    return path


@pytest.fixture(scope="module")
def reference(solutions_report):
    return {item.id: item.score for item in solutions_report.items if item.id != TRAINING_ID}


def hostile(tmp_path, code):
    folder = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "ex2_cross_entropy.py", "a") as f:
        f.write("\n\n" + code)
    return folder


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_function_costs_its_own_id_with_the_right_reason(case, tmp_path, rubric, reference):
    code, status, words = CASES[case]
    start = time.monotonic()
    # Every id but the training check, whose 200 calls of ex4's mlp_backward were a third of
    # each case's time and meet none of ex2's code (tests/test_lockstep.py checks it).
    report = grade(hostile(tmp_path, code), rubric=rubric, ids=[i for i in catalogue.IDS if i != TRAINING_ID])
    assert time.monotonic() - start < 20
    jsonschema.validate(json.loads(reports.FORMATS["json"](report)), SCHEMA)
    items = {item.id: item for item in report.items}
    offender = items.pop(OFFENDER)
    assert (offender.score, offender.status) == (0, status), offender.message
    assert words in offender.message, offender.message
    if SANDBOX_CODES[case]:  # a recursion without limit ends on whichever limit comes first
        assert offender.diagnosis.code == SANDBOX_CODES[case]
    assert {k: i.score for k, i in items.items()} == {k: v for k, v in reference.items() if k != OFFENDER}


def test_the_grader_process_never_imports_student_code(tmp_path, rubric):
    code = RIGHT + defining("import os\nprint('pid', os.getpid(), 'uid', os.getuid())\nreturn _right(logits, Yb)")
    folder = hostile(tmp_path, code)
    item = grade(folder, rubric=rubric, ids=[OFFENDER]).items[0]
    printed = item.detail.split("printed:")[1].split()
    assert item.status == "passed" and printed[0] == "pid" and int(printed[1]) != os.getpid()
    assert not [m for m in sys.modules.values() if str(folder) in str(getattr(m, "__file__", "") or "")]


def test_writing_the_report_at_import_changes_nothing_and_costs_the_module(tmp_path):
    out = tmp_path / "out" / "results.json"
    fake = json.dumps({"score": 1000, "tests": []})
    code = (
        "import pathlib\n"
        f"for name in ('results.json', 'report.json', {str(out)!r}):\n"
        "    pathlib.Path(name).parent.mkdir(parents=True, exist_ok=True)\n"
        f"    pathlib.Path(name).write_text({fake!r})\n"
    )
    folder = hostile(tmp_path, code)
    run = run_grader("grade", "--submission", folder, "--format", "gradescope", "--output", out, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    written = json.loads(out.read_text())
    assert written["score"] == FULL_MARKS - 4 and len(written["tests"]) == ID_COUNT
    assert not (tmp_path / "results.json").exists() and not (tmp_path / "report.json").exists()


def test_a_stack_walker_finds_no_reference_in_a_fresh_grading_process(tmp_path):
    code, _, words = CASES["walks_the_stack"]
    run = run_grader("grade", "--submission", hostile(tmp_path, code), "--only", "ex2", "--format", "json", cwd=ROOT)
    item = json.loads(run.stdout)["items"][0]
    assert item["score"] == 0 and words in item["message"]


def test_no_sandbox_runs_in_process_and_says_so(tmp_path, capsys):
    from grader.frontends.cli import main

    marker = tmp_path / "imported_by.txt"
    code = f"import os\nopen({str(marker)!r}, 'a').write(str(os.getpid()))\n"
    folder = hostile(tmp_path, code)
    assert main(["grade", "--submission", str(folder), "--only", "ex2", "--no-sandbox"]) == 0
    assert marker.read_text() == str(os.getpid())
    assert "sandbox: OFF" in capsys.readouterr().out
    report = grade(folder, ids=[OFFENDER], sandbox=False)
    assert json.loads(reports.FORMATS["json"](report))["sandboxed"] is False
