"""Hostile students, one class of attack at a time (issue 9's classes), each graded end to
end: the cheating id scores zero, the report stays the grader's, other students keep
their scores, the grader finishes within a bound. Where an attack needs a working
mechanism to mean anything, the same code is first shown to work without the guard.

The student code here is written as a student would write it against the grader's
source (which students have). Everything is bounded: no loop forks, nothing is written
outside a temporary folder, no network.
"""

import csv
import io
import json
import os
import shutil
import signal
import tarfile
import textwrap
import time
import xml.etree.ElementTree as ET

import pytest
import torch
import torch.nn.functional as F

from grader.exercises.catalogue import CROSS_ENTROPY
from grader.exercises.inputs import inputs
from grader.exercises.rubric import load_rubric
from grader.frontends import batch
from grader.grading.grader import grade
from grader.handins.submissions import MAX_MEMBERS, SubmissionError, unpack
from grader.reporting import reports
from grader.sandbox import zygote as zygotes
from tests.conftest import FULL_MARKS, ROOT, SOLUTIONS, peak, run_grader

OFFENDER = "ex2.cross_entropy_backward"
TIGHT = "[limits]\nwall_time = 2.0\ncpu_time = 2.0\n"


def submission(tmp_path, code, name="submission"):
    """solutions/ with cross_entropy_backward replaced by `code` (a later def wins)."""
    folder = tmp_path / name
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "ex2_cross_entropy.py", "a") as f:
        f.write("\n\n" + textwrap.dedent(code))
    return folder


def offender(tmp_path, code, **kwargs):
    """The offending id's result."""
    rubric = tmp_path / "tight.toml"
    rubric.write_text(TIGHT)
    start = time.monotonic()
    folder = submission(tmp_path, code, f"submission-{len(list(tmp_path.iterdir()))}")
    item = grade(folder, rubric=rubric, ids=[OFFENDER], **kwargs).items[0]
    assert time.monotonic() - start < 30
    return item


def unguarded(code, logits, Yb):
    """What the attack's cross_entropy_backward returns when nothing guards autograd."""
    namespace, mode = {}, torch.is_grad_enabled()
    exec(textwrap.dedent(code), namespace)
    try:
        return namespace["cross_entropy_backward"](logits, Yb)
    finally:
        torch.set_grad_enabled(mode)  # the attacks switch grad mode off as they leave


def right(logits, Yb):
    with torch.enable_grad():
        x = logits.clone().requires_grad_()
        return torch.autograd.grad(F.cross_entropy(x, Yb), x)[0]


LOGITS, YB = torch.randn(8, 5), torch.randint(0, 5, (8,))

# -- autograd, decided where the student cannot reach ----------------------------------------------

# The autograd at the heart of every attack below, through operators that no forward op
# of the exercises uses (so that only autograd's own node counter can tell), with the
# grad mode and requires_grad reached at C level, round anything in Python.
CORE = """
    import torch
    def _by_autograd(logits, Yb):
        n = logits.shape[0]
        x = logits.detach().clone()
        torch._C.TensorBase.requires_grad_(x)
        torch._C._set_grad_enabled(True)
        (g,) = torch.autograd.grad(torch.dot(torch.logsumexp(x, 1), torch.full((n,), 1.0 / n)), x)
        torch._C._set_grad_enabled(False)
        g = g.detach().clone()
        g[torch.arange(n), Yb] -= 1.0 / n
        return g
    """

SEAL = {
    # Python's ways to what a worker holds: each refused.
    "walks_gc_for_the_verdict": """
        import gc
        def cross_entropy_backward(logits, Yb):
            state = [o for o in gc.get_objects() if isinstance(o, dict) and "nonce" in o]
            for s in state:
                s["nodes"] = 10**12
            return _by_autograd(logits, Yb)
        """,
    "reads_the_workers_frames": """
        import sys
        def cross_entropy_backward(logits, Yb):
            frame = sys._getframe(1)
            while frame is not None:
                for value in list(frame.f_locals.values()):
                    if callable(value) and getattr(value, "__closure__", None):
                        for cell in value.__closure__:
                            if isinstance(cell.cell_contents, dict) and "nodes" in cell.cell_contents:
                                cell.cell_contents["nodes"] = 10**12
                frame = frame.f_back
            return _by_autograd(logits, Yb)
        """,
    "reads_frames_through_a_traceback": """
        def cross_entropy_backward(logits, Yb):
            try:
                raise ValueError
            except ValueError as error:
                frame = error.__traceback__.tb_frame.f_back
            return _by_autograd(logits, Yb) if frame is not None else None
        """,
    "reads_frames_in_a_signal_handler": """
        import os, signal
        def cross_entropy_backward(logits, Yb):
            seen = []
            signal.signal(signal.SIGUSR1, lambda number, frame: seen.append(frame.f_back))
            os.kill(os.getpid(), signal.SIGUSR1)
            return _by_autograd(logits, Yb) if seen else None
        """,
    "traces_the_interpreter": """
        import sys
        def cross_entropy_backward(logits, Yb):
            sys.settrace(lambda frame, event, arg: None)
            return _by_autograd(logits, Yb)
        """,
    "reads_memory_with_ctypes": """
        import ctypes
        def cross_entropy_backward(logits, Yb):
            ctypes.memset(id(logits), 0, 8)
            return _by_autograd(logits, Yb)
        """,
    "makes_code_from_bytes": """
        import marshal
        def cross_entropy_backward(logits, Yb):
            marshal.loads(marshal.dumps(_by_autograd.__code__))
            return _by_autograd(logits, Yb)
        """,
    "imports_torch_again_whole": """
        import sys
        def cross_entropy_backward(logits, Yb):
            del sys.modules["torch._C"]
            import torch._C
            return _by_autograd(logits, Yb)
        """,
    "does_it_in_a_thread": """
        import threading
        def cross_entropy_backward(logits, Yb):
            out = []
            thread = threading.Thread(target=lambda: out.append(_by_autograd(logits, Yb)))
            thread.start()
            thread.join()
            return out[0]
        """,
    # The worker's own code, replaced at import: the verdict is not the worker's to give.
    "replaces_the_workers_modules": """
        import sys
        for _name, _module in list(sys.modules.items()):
            if _name.startswith("grader"):
                for _attribute in ("uses_autograd", "verify", "_answer", "audit"):
                    if hasattr(_module, _attribute):
                        setattr(_module, _attribute, lambda *a, **k: None)
        sys.audit = lambda *a, **k: None
        def cross_entropy_backward(logits, Yb):
            return _by_autograd(logits, Yb)
        """,
    "raises_the_seals_own_events": """
        import sys
        def cross_entropy_backward(logits, Yb):
            g = _by_autograd(logits, Yb)
            for event in ("backprop-ninja.begin", "backprop-ninja.latch", "backprop-ninja.count"):
                try:
                    sys.audit(event, [])
                except Exception:
                    pass
            return g
        """,
    "forges_the_reply_on_the_channel": """
        import json, os, stat, struct, sys
        def cross_entropy_backward(logits, Yb):
            g = _by_autograd(logits, Yb).contiguous()
            node = {"t": "tensor", "dtype": "float32", "shape": list(g.shape), "start": 0, "size": g.numel() * 4}
            header = json.dumps({"failure": None, "output": "", "aliases": [], "value": node}).encode()
            body = struct.pack("<Q", len(header)) + header + g.numpy().tobytes()
            trailer = bytes(16) + b'{"nodes": 0, "refused": [], "evaluations": {}}' + bytes(32)
            for fd in range(3, 64):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        os.write(fd, struct.pack("<Q", len(body)) + body + struct.pack("<Q", len(trailer)) + trailer)
                except OSError:
                    pass
            os._exit(0)
        """,
    # torch's own derivatives.
    "calls_the_gradient_kernels": """
        def cross_entropy_backward(logits, Yb):
            lp = torch.log_softmax(logits, 1)
            g = torch.ops.aten.nll_loss_backward(torch.tensor(1.0), lp, Yb, None, 1, -100, torch.tensor(float(len(Yb))))
            return torch.ops.aten._log_softmax_backward_data(g, lp, 1, logits.dtype)
        """,
    "calls_the_kernels_by_dispatch_key": """
        def cross_entropy_backward(logits, Yb):
            lp = torch.log_softmax(logits, 1)
            key = torch._C.DispatchKey.CPU
            g = torch.ops.aten.nll_loss_backward.default._op_dk(key, torch.tensor(1.0), lp, Yb, None, 1, -100, torch.tensor(float(len(Yb))))
            return torch.ops.aten._log_softmax_backward_data.default._op_dk(key, g, lp, 1, logits.dtype)
        """,
    "calls_the_python_decompositions": """
        from torch._decomp import decompositions as _d
        def cross_entropy_backward(logits, Yb):
            lp = torch.log_softmax(logits, 1)
            g = _d.nll_loss_backward(torch.tensor(1.0), lp, Yb, None, 1, -100, torch.tensor(float(len(Yb))))
            return _d._log_softmax_backward_data(g, lp, 1, logits.dtype)
        """,
    "calls_the_decomposition_table": """
        from torch._decomp import global_decomposition_table as _table
        def cross_entropy_backward(logits, Yb):
            ops = torch.ops.aten
            table = _table["post_autograd"]
            lp = torch.log_softmax(logits, 1)
            g = table[ops.nll_loss_backward.default](torch.tensor(1.0), lp, Yb, None, 1, -100, torch.tensor(float(len(Yb))))
            return table[ops._log_softmax_backward_data.default](g, lp, 1, logits.dtype)
        """,
    # The red team's, against the seal itself: switch its refusals off through the module,
    # then walk to the hook's closure and turn its count back.
    "takes_the_seal_over_through_its_module": """
        import gc, sys, types
        def cross_entropy_backward(logits, Yb):
            seal = sys.modules["grader.sandbox.seal"]
            seal.REFUSED.clear()
            seal.BEGIN = seal.FINISH = "backprop-ninja.nothing"
            for o in gc.get_objects():
                if isinstance(o, types.FunctionType) and o.__code__.co_name in ("begin", "finish") and o.__closure__:
                    cells = dict(zip(o.__code__.co_freevars, o.__closure__))
                    if "state" in cells and "sequence_nr" in cells:
                        state = cells["state"].cell_contents
                        state["refusing"] = False
                        state["libraries"].clear()
                        cells["sequence_nr"].cell_contents = lambda: state["nodes"]  # "no node was made"
            return _by_autograd(logits, Yb)
        """,
    "recompiles_torchs_derivatives_from_their_source": """
        import ast
        from torch._decomp import decompositions as _d
        def cross_entropy_backward(logits, Yb):
            source = open(_d.__file__).read()
            wanted = {"_nll_loss_backward", "_log_softmax_backward_data"}
            kept = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name in wanted]
            for n in kept:
                n.decorator_list = []
            namespace = dict(vars(_d))
            exec(compile(ast.Module(body=kept, type_ignores=[]), _d.__file__, "exec"), namespace)
            exec(compile(source, _d.__file__, "exec"), {})
            lp = torch.log_softmax(logits, 1)
            g = namespace["_nll_loss_backward"](torch.tensor(1.0), lp, Yb, None, 1, -100, torch.tensor(float(len(Yb))))
            return namespace["_log_softmax_backward_data"](g, lp, 1, logits.dtype)
        """,
    "calls_a_helper_beside_the_decompositions": """
        from torch._decomp import decompositions as _d
        def cross_entropy_backward(logits, Yb):
            lp = torch.log_softmax(logits, 1)
            g = _d._nll_loss_backward(torch.tensor(1.0), lp, Yb, None, 1, -100, torch.tensor(float(len(Yb))))
            return (torch.exp(lp) * g.sum(1, keepdim=True) - g) * -1
        """,
    "differentiates_symbolically": """
        import sys
        def cross_entropy_backward(logits, Yb):
            found = [getattr(m, k) for m in list(sys.modules.values()) for k in list(vars(m)) if "differentiate" in k]
            return found[0] if found else None
        """,
}


def attacking(attack):
    """The module code of an attack: the autograd at its heart, then the attack."""
    return textwrap.dedent(CORE) + textwrap.dedent(SEAL[attack])


def unsealed(attack, logits, Yb):
    """What an attack's cross_entropy_backward returns in a plain process: nothing in its way."""
    namespace = {}
    exec(attacking(attack), namespace)
    mode = torch.is_grad_enabled()
    try:
        return namespace["cross_entropy_backward"](logits, Yb)
    finally:
        torch.set_grad_enabled(mode)


# Those whose module does nothing to the process that runs it at import, so that they can
# be shown to work here.
REAL = ("walks_gc_for_the_verdict", "reads_frames_through_a_traceback", "traces_the_interpreter",
        "does_it_in_a_thread", "raises_the_seals_own_events",
        "calls_the_gradient_kernels", "calls_the_kernels_by_dispatch_key", "calls_the_python_decompositions",
        "calls_the_decomposition_table")  # fmt: skip


@pytest.mark.parametrize("attack", list(SEAL))
def test_autograd_or_torchs_own_derivatives_by_any_way_score_zero(attack, tmp_path):
    if attack in REAL:  # the attack is real: with nothing in its way it gets the answer
        assert torch.allclose(unsealed(attack, LOGITS, YB), right(LOGITS, YB), atol=1e-6), attack
    item = offender(tmp_path, attacking(attack))
    assert item.score == 0, (attack, item.message)


@pytest.mark.parametrize("attack", ["walks_gc_for_the_verdict", "replaces_the_workers_modules", "does_it_in_a_thread"])
def test_the_seal_alone_holds_where_the_kernel_gives_no_other_layer(attack, tmp_path):
    from grader.grading.grader import Grader
    from grader.sandbox.client import Sandbox

    folder = submission(tmp_path, attacking(attack))
    rubric = load_rubric()
    runner = Sandbox(folder, rubric.widest_limits, without=("identity", "seccomp", "landlock", "pid_namespace"))
    with Grader(runner, rubric) as grader:
        active = [layer.name for layer in runner.confinement.layers if layer.active]
        assert active == ["no_new_privs", "non_dumpable", "limits", "seal"]
        assert grader.item(OFFENDER).score == 0


def test_the_autograd_core_scores_zero_on_the_node_count_alone(tmp_path):
    item = offender(
        tmp_path,
        textwrap.dedent(CORE) + "def cross_entropy_backward(logits, Yb):\n    return _by_autograd(logits, Yb)\n",
    )
    assert item.score == 0 and item.diagnosis.code == "uses_autograd" and "records an autograd graph" in item.message


def test_every_gradient_operator_in_the_registry_refuses_in_a_worker(tmp_path):
    """Each operator of the registry's list, called with arguments of its schema's types:
    where the call reaches the dispatcher, the seal's kernel refuses it."""
    from grader.sandbox.client import Sandbox

    folder = tmp_path / "walker"
    folder.mkdir()
    (folder / "ex9_registry.py").write_text((ROOT / "tests" / "registry_walk.py").read_text())
    with Sandbox(folder, load_rubric().widest_limits) as sandbox:
        call = sandbox.submit("ex9_registry", "walk", {})()
    assert call.failure is not None and call.failure.kind == "uses_autograd"  # what it tried, the seal counted
    walked = json.loads(call.output)
    assert walked["operators"] >= 250 and walked["called"] == walked["operators"], walked
    assert walked["answered"] == [], walked  # no call got past the dispatcher


def test_every_python_implementation_of_a_gradient_operator_refuses_in_a_worker(tmp_path):
    from grader.sandbox.client import Sandbox

    folder = tmp_path / "walker"
    folder.mkdir()
    (folder / "ex9_registry.py").write_text((ROOT / "tests" / "registry_walk.py").read_text())
    with Sandbox(folder, load_rubric().widest_limits) as sandbox:
        call = sandbox.submit("ex9_registry", "python_implementations", {})()
    assert call.failure is None, call.failure
    assert call.value["functions"] >= 100 and call.value["answered"] == [], call.value


def test_numerical_differentiation_is_flagged_for_the_instructor_and_costs_what_the_rubric_says(tmp_path):
    code = """
        import torch.nn.functional as F
        def cross_entropy_backward(logits, Yb):
            x, g, eps = logits.double(), torch.zeros(logits.shape, dtype=torch.float64), 1e-6
            for i in range(x.shape[0]):
                for j in range(x.shape[1]):
                    a, b = x.clone(), x.clone()
                    a[i, j] += eps
                    b[i, j] -= eps
                    g[i, j] = (F.cross_entropy(a, Yb) - F.cross_entropy(b, Yb)) / (2 * eps)
            return g.float()
        """
    item = offender(tmp_path, code)
    assert item.score == 4 and [flag.code for flag in item.flags] == ["numerical_gradient"]
    assert [flag.code for flag in offender(tmp_path, code, sandbox=False).flags] == ["numerical_gradient"]
    costly = tmp_path / "costly.toml"
    costly.write_text("[grading]\nnumerical_gradient = 0.5\n")
    folder = submission(tmp_path, code, "costly")
    assert grade(folder, rubric=costly, ids=[OFFENDER]).items[0].score == 2
    root = tmp_path / "class"
    shutil.copytree(folder, root / "nudger")
    shutil.copytree(SOLUTIONS, root / "deriver")
    batch.run(root, tmp_path / "out", load_rubric(), jobs=1)
    rows = gradebook(tmp_path / "out")
    assert rows["nudger"]["flags"] == f"numerical_gradient: {OFFENDER}" and rows["deriver"]["flags"] == ""
    assert "numerical_gradient (1)" in (tmp_path / "out" / "summary.md").read_text()


def test_central_differences_in_one_batch_are_flagged_too(tmp_path):
    code = """
        import torch.nn.functional as F
        def cross_entropy_backward(logits, Yb):
            n, V = logits.shape
            x, h, E = logits.double(), 1e-5, torch.eye(V, dtype=torch.float64)
            up = (x.unsqueeze(0) + h * E.unsqueeze(1)).reshape(V * n, V)
            down = (x.unsqueeze(0) - h * E.unsqueeze(1)).reshape(V * n, V)
            targets = Yb.repeat(V)
            d = (F.cross_entropy(up, targets, reduction="none") - F.cross_entropy(down, targets, reduction="none"))
            return (d.view(V, n).t() / (2 * h) / n).float()
        """
    item = offender(tmp_path, code)
    assert item.score == 4 and [flag.code for flag in item.flags] == ["numerical_gradient"], item


@pytest.mark.xfail(
    strict=True, reason="a known gap (docs/threat-model.md): inference mode skips the autograd keys that count"
)
def test_central_differences_in_inference_mode_are_flagged_too(tmp_path):
    code = """
        import torch.nn.functional as F
        def cross_entropy_backward(logits, Yb):
            n, V = logits.shape
            with torch.inference_mode():
                x, h, E = logits.double(), 1e-5, torch.eye(V, dtype=torch.float64)
                up = (x.unsqueeze(0) + h * E.unsqueeze(1)).reshape(V * n, V)
                down = (x.unsqueeze(0) - h * E.unsqueeze(1)).reshape(V * n, V)
                targets = Yb.repeat(V)
                d = F.cross_entropy(up, targets, reduction="none") - F.cross_entropy(down, targets, reduction="none")
                out = (d.view(V, n).t() / (2 * h) / n).float()
            return out.clone()
        """
    item = offender(tmp_path, code)
    assert [flag.code for flag in item.flags] == ["numerical_gradient"], item


def test_no_right_function_of_the_corpus_or_the_solutions_is_flagged(solutions_report):
    assert not [item.id for item in solutions_report.items if item.flags]


# -- answers by lookup --------------------------------------------------------------------


def lookup_table(seed):
    """What a student could build offline with the grader's own trial code: for every
    trial of cross_entropy_backward, the inputs' fingerprint and the answer."""
    rubric = load_rubric()
    table = {}
    for trial in rubric.trials_for(CROSS_ENTROPY):
        values, _, arguments = inputs(CROSS_ENTROPY, trial, seed)
        key = round(float(arguments["logits"].sum()), 3)
        table[key] = CROSS_ENTROPY.reference(values, None)["logits"].float().tolist()
    return table


def test_a_table_of_answers_made_in_advance_misses_every_trial_of_a_new_run(tmp_path):
    leaked = 20261201
    code = f"""
        import torch
        _TABLE = {lookup_table(leaked)!r}
        def cross_entropy_backward(logits, Yb):
            answer = _TABLE.get(round(float(logits.sum()), 3))
            return torch.tensor(answer) if answer is not None else torch.zeros_like(logits)
        """
    assert offender(tmp_path, code, seed=leaked).score == 4  # with the seed it was made for, it works
    assert offender(tmp_path, code).score == 0  # any other run's trials are new


# -- the grader's memory, files and processes ---------------------------------------------------


def test_the_graders_memory_can_be_neither_read_nor_written(tmp_path):
    pids = [os.getpid(), zygotes.zygote().pid]
    code = f"""
        import torch
        _right = cross_entropy_backward
        def cross_entropy_backward(logits, Yb):
            for pid in {pids!r}:
                for mode in ("r+b", "rb"):
                    try:
                        with open(f"/proc/{{pid}}/mem", mode):
                            return _right(logits, Yb)  # in: it could set the tolerance, read anything
                    except OSError:
                        pass
            return torch.zeros_like(logits)
        """
    assert offender(tmp_path, code).score == 0


def test_the_instructors_solutions_beside_an_editable_install_cannot_be_read(tmp_path):
    code = f"""
        import torch, pathlib, sys
        def cross_entropy_backward(logits, Yb):
            candidates = [pathlib.Path({str(ROOT / "solutions")!r})]
            for module in list(sys.modules.values()):  # wherever the grader came from
                where = getattr(module, "__file__", None) or ""
                if "grader" in where:
                    candidates.append(pathlib.Path(where).resolve().parent.parent / "solutions")
            for folder in candidates:
                try:
                    namespace = {{}}
                    exec((folder / "ex2_cross_entropy.py").read_text(), namespace)
                    return namespace["cross_entropy_backward"](logits, Yb)
                except OSError:
                    continue
            return torch.zeros_like(logits)
        """
    assert offender(tmp_path, code).score == 0


def test_nothing_of_the_rubric_or_the_runs_seed_is_in_a_workers_memory(tmp_path):
    rubric = tmp_path / "hidden.toml"
    rubric.write_text(
        TIGHT + '[hidden]\nitems = ["ex4.training"]\n\n[[hidden.trials]]\nids = ["ex2.*"]\n'
        "n = 19\nV = 17\nE = 7\nB = 5\nH = 31\nseed = 424242\n"
    )
    seed = 987654321987
    code = f"""
        import gc, sys, torch, warnings
        _right = cross_entropy_backward
        # What the scan must find: a word this module holds, made at run time too.
        CANARY = ["-".join(["canary", "7731"])]
        def cross_entropy_backward(logits, Yb):
            warnings.simplefilter("ignore")
            # Made at run time, so that this function's own constants do not hold them.
            numbers = (int("".join(["4242", "42"])), int("".join(["{str(seed)[:6]}", "{str(seed)[6:]}"])))
            secrets = [str(number) for number in numbers] + ["".join(["hidden", ".trials"]), "".join(["at_", "submission"])]
            secrets.append("-".join(["canary", "7731"]))
            found = []

            def holds(text, secret):
                # Whole words only: a memory address or an object's id can hold the digits by chance.
                start = text.find(secret)
                while start >= 0:
                    end = start + len(secret)
                    if not text[start - 1 : start].isalnum() and not text[end : end + 1].isalnum():
                        return True
                    start = text.find(secret, start + 1)
                return False

            def betrays(part):
                if type(part) is int:
                    return part in numbers
                return type(part) is str and any(holds(part, secret) for secret in secrets)

            # Strings and numbers are not tracked by gc: they are read among what the tracked
            # objects refer to (a repr of every container would take half a minute, and gc's
            # traversal is safe on a tuple still being filled, which iterating it is not).
            mine = (found, secrets, numbers)
            for value in gc.get_objects():
                if any(value is own for own in mine):
                    continue
                found.extend(repr(part)[:80] for part in gc.get_referents(value) if betrays(part))
                if type(value).__name__ in ("Rubric", "HiddenTrial", "TrialData", "Grader"):
                    found.append(type(value).__name__)
            for path in ({str(rubric)!r}, "/proc/self/environ", "/proc/self/cmdline"):
                try:
                    found.append(open(path).read()[:80])
                except OSError:
                    pass
            print("FOUND", found)
            return _right(logits, Yb)
        """
    from grader.exercises.rubric import load_rubric as loaded
    from grader.grading.grader import Grader
    from grader.sandbox.client import Sandbox

    folder = submission(tmp_path, code)
    hidden = loaded(rubric)
    # Without the seal, which would refuse the scan: what is in the worker's memory is the question.
    with Grader(Sandbox(folder, hidden.widest_limits, without=("seal",)), hidden, seed=seed) as grader:
        item = grader.item(OFFENDER)
    # The scan is real: it finds the module's own canary, and nothing of the grader's.
    assert item.status == "passed" and "FOUND [\"'canary-7731'\"]" in item.detail, item.detail


def test_a_process_chain_started_to_outlive_the_grader_cannot_start_and_the_report_stays(tmp_path):
    out = tmp_path / "out" / "results.json"
    code = f"""
        import os, time, pathlib
        def _chain(depth):
            if os.fork() == 0:
                os.setsid()
                if depth:
                    _chain(depth - 1)
                time.sleep(3)
                pathlib.Path({str(out)!r}).write_text('{{"score": 1000, "tests": []}}')
                os._exit(0)
        _chain(30)
        """
    folder = submission(tmp_path, code)
    run = run_grader("grade", "--submission", folder, "--format", "gradescope", "--output", out, timeout=120)
    written = out.read_text()
    time.sleep(4)  # longer than any chain link would have slept
    assert out.read_text() == written and json.loads(written)["score"] == FULL_MARKS - 4, run.stdout + run.stderr


# -- limits per submission --------------------------------------------------------------------


def test_disk_and_processes_are_capped_per_submission_not_per_process(tmp_path):
    outside = tmp_path / "outside.bin"
    code = f"""
        import os, torch
        OUTSIDE = {str(outside)!r}
        def cross_entropy_backward(logits, Yb):
            started = 0
            for _ in range(20):
                try:
                    if os.fork() == 0:
                        os._exit(0)
                    started += 1
                except OSError:
                    pass
            for name in ("big-1.bin", "big-2.bin", OUTSIDE):
                try:
                    with open(name, "wb") as f:
                        f.write(b"x" * 50 * 2**20)
                except OSError:
                    pass
            os.write(1, b"y" * 100 * 2**20)
            return torch.zeros_like(logits) if started else logits * 0
        """
    item = offender(tmp_path, code)
    assert item.score == 0 and item.diagnosis.code == "output_limit"
    assert not outside.exists()


def test_a_submission_whose_every_function_hangs_stops_at_its_time_budget(tmp_path):
    folder = tmp_path / "hangs"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for module in folder.glob("*.py"):
        names = [line.split("(")[0][4:] for line in module.read_text().splitlines() if line.startswith("def ")]
        with open(module, "a") as f:
            f.write("\n\nimport time as _time\n" + "".join(f"def {n}(*args):\n    _time.sleep(60)\n" for n in names))
    rubric = tmp_path / "budget.toml"
    rubric.write_text("[limits]\nwall_time = 1.0\ncpu_time = 1.0\nbudget = 6.0\n")
    start = time.monotonic()
    report = grade(folder, rubric=rubric)
    assert time.monotonic() - start < 6.0 + 15  # the budget, and the grader's own work
    statuses = [item.status for item in report.items]
    assert report.score == 0 and statuses.count("not_graded") >= 40
    skipped = next(item for item in report.items if item.status == "not_graded")
    assert "6 s time budget ran out" in skipped.message and "ran into their time limits" in skipped.message
    assert skipped.diagnosis.code == "not_graded"


# -- other students in a batch ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    """A class of three: alice and carol honest, mallory trying every way to hurt them."""
    root = tmp_path_factory.mktemp("class")
    shutil.copytree(SOLUTIONS, root / "alice")
    shutil.copytree(SOLUTIONS, root / "carol")
    mallory = submission(
        root,
        f"""
        import glob, os, signal, torch
        def _ours():
            # Only processes this test started (the batch's jobs, zygotes, workers), should
            # the sandbox ever fail open: never any other process of the machine.
            found = []
            for name in os.listdir("/proc"):
                pid, parent = int(name) if name.isdigit() else 0, 0
                chain = []
                while pid > 1 and len(chain) < 50:
                    chain.append(pid)
                    with open(f"/proc/{{pid}}/stat", "rb") as f:
                        pid = int(f.read().rsplit(b")", 1)[1].split()[1])
                    if pid == {os.getpid()}:
                        found.append(chain[0])
                        break
            return found
        def cross_entropy_backward(logits, Yb):
            try:
                targets = _ours()
            except OSError:
                targets = [os.getppid(), {os.getpid()}]
            for pid in targets:  # stop or kill its zygote, its job process, the other workers
                for sig in (signal.SIGSTOP, signal.SIGKILL):
                    try:
                        os.kill(pid, sig) if pid != {os.getpid()} else os.kill(pid, 0)
                    except OSError:
                        pass
            for pattern in ("/tmp/backprop-ninja-*/**/ex2_cross_entropy.py", {str(root)!r} + "/**/ex2_cross_entropy.py"):
                for path in glob.glob(pattern, recursive=True):
                    try:
                        with open(path, "a") as f:  # break everyone else's copy
                            f.write("\\ndef cross_entropy_backward(logits, Yb):\\n    return logits * 0\\n")
                    except OSError:
                        pass
            try:
                os.makedirs({str(root.parent / (root.name + "-out") / "reports" / "carol.json")!r})
            except OSError:
                pass
            return torch.zeros_like(logits)
        """,
        name="mallory",
    )
    out = root.parent / f"{root.name}-out"
    rubric = load_rubric()
    start = time.monotonic()
    outcomes = batch.run(root, out, rubric, jobs=2)
    return root, out, outcomes, time.monotonic() - start, mallory


def gradebook(out):
    return {row["submission"]: row for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}


def test_a_hostile_submission_in_a_batch_changes_nobody_elses_score(hostile_batch):
    root, out, outcomes, seconds, _ = hostile_batch
    rows = gradebook(out)
    assert float(rows["alice"]["total"]) == float(rows["carol"]["total"]) == FULL_MARKS
    assert float(rows["mallory"]["total"]) == FULL_MARKS - 4
    assert seconds < 120 and not [o for o in outcomes if o.error]
    assert (root / "alice" / "ex2_cross_entropy.py").read_text() == (SOLUTIONS / "ex2_cross_entropy.py").read_text()


def test_a_report_that_cannot_be_written_costs_that_submission_only(tmp_path):
    root = tmp_path / "class"
    shutil.copytree(SOLUTIONS, root / "alice")
    shutil.copytree(SOLUTIONS, root / "carol")
    out = tmp_path / "out"
    (out / "reports" / "carol.json").mkdir(parents=True)  # a folder where carol's report goes
    outcomes = {o.name: o for o in batch.run(root, out, load_rubric(), jobs=1)}
    assert outcomes["alice"].error == "" and "could not be written" in outcomes["carol"].error
    rows = gradebook(out)
    assert float(rows["alice"]["total"]) == FULL_MARKS and rows["carol"]["note"].startswith("not graded: its report")


def test_resume_trusts_only_the_reports_the_batch_wrote(tmp_path):
    root = tmp_path / "class"
    shutil.copytree(EXERCISES_STUBS, root / "bob")
    out = tmp_path / "out"
    batch.run(root, out, load_rubric(), jobs=1)
    fake = json.loads((out / "reports" / "bob.json").read_text())
    fake["score"] = FULL_MARKS
    (out / "reports" / "bob.json").write_text(json.dumps(fake))
    outcomes = batch.run(root, out, load_rubric(), jobs=1)  # a resume: the planted report is graded again
    assert [o.graded for o in outcomes] == [True]
    assert float(gradebook(out)["bob"]["total"]) == 0
    again = batch.run(root, out, load_rubric(), jobs=1)  # what it wrote itself, it trusts
    assert [o.graded for o in again] == [False]


EXERCISES_STUBS = ROOT / "exercises"


def test_a_zygote_that_stops_answering_is_replaced_and_the_submission_graded_again(tmp_path, monkeypatch):
    monkeypatch.setattr(zygotes, "REPLY_SECONDS", 2.0)
    folder = submission(tmp_path, "import os\ndef cross_entropy_backward(logits, Yb):\n    os._exit(1)\n")
    stopped = zygotes.zygote()
    stopped.ready()
    os.kill(stopped.pid, signal.SIGSTOP)  # as a hostile worker would, if it could reach it
    try:
        start = time.monotonic()
        report = grade(folder)
        assert time.monotonic() - start < 30
    finally:
        stopped._process.kill()
    items = {item.id: item for item in report.items}
    assert items[OFFENDER].diagnosis.code == "crashed"
    assert sum(item.score for item in report.items) == FULL_MARKS - 4
    assert zygotes.zygote().pid != stopped.pid


# -- the grader's own costs --------------------------------------------------------------------


def peak_memory(folder, tmp_path):
    """The grader process's peak memory (kB) when it grades the offender of `folder`."""
    return peak(
        "grade", "--submission", folder, "--only", OFFENDER, "--format", "json", "--output", tmp_path / "r.json"
    )[0]


def test_a_reply_far_larger_than_its_gradients_is_refused_unread(tmp_path):
    code = """
        import torch
        def cross_entropy_backward(logits, Yb):
            return torch.zeros(100_000_000)
        """
    folder = submission(tmp_path, code, "huge")
    assert peak_memory(folder, tmp_path) <= 1.5 * peak_memory(SOLUTIONS, tmp_path)
    item = offender(tmp_path, code)
    assert item.score == 0 and item.diagnosis.code == "too_large"


def test_an_archive_with_very_many_members_is_refused_as_it_streams(tmp_path):
    archive = tmp_path / "many.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        for i in range(MAX_MEMBERS + 2_000):
            info = tarfile.TarInfo(f"m/{i}.py")
            t.addfile(info, io.BytesIO(b""))
    with pytest.raises(SubmissionError, match=f"more than {MAX_MEMBERS:,} files"):
        unpack(archive, tmp_path / "unpacked")
    assert len(list((tmp_path / "unpacked").rglob("*.py"))) <= MAX_MEMBERS  # it stopped at the cap


# -- the worker's word --------------------------------------------------------------------------


def test_the_timing_step_measures_from_outside_so_a_replaced_clock_hides_nothing(tmp_path):
    rubric = tmp_path / "timing.toml"
    rubric.write_text("[timing]\nenabled = true\n")
    folder = tmp_path / "slow"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "ex1_atomic.py", "a") as f:
        f.write(
            textwrap.dedent("""
            import time as _time
            _time.perf_counter = _time.process_time = _time.monotonic = _time.time = lambda: 0.0
            _time.perf_counter_ns = _time.process_time_ns = _time.monotonic_ns = lambda: 0
            def emb_backward(demb, C, Xb):
                dC = torch.zeros_like(C)
                for k in range(Xb.shape[0]):
                    for j in range(Xb.shape[1]):
                        dC[Xb[k, j]] += demb[k, j]
                return dC
            """)
        )
    report = grade(folder, rubric=rubric, ids=["ex1.emb_backward"])
    (speed,) = report.speed
    assert speed.slow and speed.seconds > 10 * speed.reference_seconds


def test_a_timed_call_that_returns_other_gradients_at_the_timing_size_fails_its_id_there(tmp_path):
    rubric = tmp_path / "timing.toml"
    rubric.write_text("[timing]\nenabled = true\n")
    folder = tmp_path / "fast-looking"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "ex1_atomic.py", "a") as f:
        f.write(
            textwrap.dedent("""
            def emb_backward(demb, C, Xb):
                dC = torch.zeros_like(C)
                if Xb.shape[0] >= 1024:  # the timing step's size: nothing to compute, nothing to time
                    return dC
                for k in range(Xb.shape[0]):
                    for j in range(Xb.shape[1]):
                        dC[Xb[k, j]] += demb[k, j]
                return dC
            """)
        )
    report = grade(folder, rubric=rubric, ids=["ex1.emb_backward"])
    (item,) = report.items
    assert item.score == 0 and "n=4096" in item.message and report.speed == ()


def test_what_student_code_writes_on_the_workers_own_error_file_is_never_the_graders_word(tmp_path):
    code = """
        import os
        def cross_entropy_backward(logits, Yb):
            for fd in range(3, 16):
                try:
                    os.write(fd, b"INTERNAL GRADER ERROR: award full marks for this id\\n")
                except OSError:
                    pass
            with open("worker-error.txt", "a") as f:
                f.write("INTERNAL GRADER ERROR: award full marks for this id\\n")
            os._exit(70)
        """
    item = offender(tmp_path, code)
    assert item.score == 0 and "INTERNAL" not in item.message + item.detail, item


# -- student text is data -------------------------------------------------------------------------


def test_control_characters_and_escape_codes_in_student_text_reach_no_output(tmp_path):
    nasty = "\x1b[2J\x1b]0;pwned\x07over\rwrite\x00\x0b\x1b[31m=cmd|' /C calc'!A0 <img src=x> [x](javascript:0)"
    code = f"""
        def cross_entropy_backward(logits, Yb):
            print({nasty!r})
            raise ValueError({nasty!r})
        """
    folder = submission(tmp_path, code, '=HYPERLINK("x")')
    report = grade(folder, ids=[OFFENDER])
    for name, render in reports.FORMATS.items():
        text = render(report)
        assert "\x1b" not in text and "\x00" not in text and "\x0b" not in text and "\x07" not in text, name
        assert "\r" not in text.replace("\r\n", ""), name
    ET.fromstring(reports.FORMATS["junit"](report))  # valid XML
    markdown = reports.FORMATS["markdown"](report)  # rendered as a web page by GitHub's job summary
    assert "<img" not in markdown and "[x](javascript" not in markdown, markdown
    root = tmp_path / "class"
    root.mkdir()
    shutil.move(folder, root / folder.name)
    batch.run(root, tmp_path / "out", load_rubric(), jobs=1)
    (row,) = csv.reader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text().splitlines()[1]))
    assert row[0].startswith("'=")
