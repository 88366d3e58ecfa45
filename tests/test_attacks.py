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
import subprocess
import sys
import tarfile
import textwrap
import time
import xml.etree.ElementTree as ET

import pytest
import torch
import torch.nn.functional as F

from grader import batch, reports
from grader.catalogue import CROSS_ENTROPY
from grader.grading import grade
from grader.rubric import load_rubric
from grader.sandbox import zygote as zygotes
from grader.submissions import SubmissionError, unpack
from grader.trials import inputs
from tests.conftest import FULL_MARKS, ROOT, SOLUTIONS, run_grader

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

# -- autograd undetected ----------------------------------------------------------------

AUTOGRAD = {
    "inference_mode_false": """
        import torch, torch.nn.functional as F
        def cross_entropy_backward(logits, Yb):
            with torch.inference_mode(False):
                x = logits.detach().clone()
                torch._C.TensorBase.requires_grad_(x)
                return torch.autograd.grad(F.cross_entropy(x, Yb), x)[0]
        """,
    "grad_mode_in_a_new_thread": """
        import threading, torch, torch.nn.functional as F
        def cross_entropy_backward(logits, Yb):
            out = []
            def work():  # a new thread starts with grad mode on, and no hooks
                x = logits.detach().clone().requires_grad_()
                F.cross_entropy(x, Yb).backward()
                out.append(x.grad)
            thread = threading.Thread(target=work)
            thread.start()
            thread.join()
            return out[0]
        """,
    "graph_nodes_called_by_hand": """
        import torch, torch.nn.functional as F
        def _originals():
            guard = getattr(torch._C._set_grad_enabled, "__closure__", None)
            if guard:  # the grader's guard keeps the originals: take them back
                guard = guard[0].cell_contents
                return guard._set_grad_enabled, torch._C.TensorBase.requires_grad_
            return torch._C._set_grad_enabled, torch._C.TensorBase.requires_grad_
        def cross_entropy_backward(logits, Yb):
            set_grad, requires_grad = _originals()
            set_grad(True)
            x = logits.detach().clone()
            requires_grad(x)
            n, V = logits.shape
            probs = torch.softmax(x, 1)  # its node gives the vector-Jacobian product
            picked = -torch.log(probs[torch.arange(n), Yb]).sum() / n
            node, grads = picked.grad_fn, (torch.ones(()),)
            while node is not None and node.name() != "SoftmaxBackward0":
                grads = node(*grads)
                grads = grads if isinstance(grads, tuple) else (grads,)
                grads = tuple(g for g in grads if g is not None)[:1]
                node = next((f for f, _ in node.next_functions if f is not None), None)
            upstream = torch.zeros(n, V)
            upstream[torch.arange(n), Yb] = -1.0 / n / probs.detach()[torch.arange(n), Yb]
            out = node(upstream)
            set_grad(False)
            return (out[0] if isinstance(out, tuple) else out).detach()
        """,
    "forward_mode_through_make_dual": """
        import torch, torch.nn.functional as F
        def cross_entropy_backward(logits, Yb):
            n, V = logits.shape
            guard = getattr(torch._C._set_fwd_grad_enabled, "__closure__", None)
            originals = {}
            if guard:  # take the originals back from the grader's guard, and its dispatcher override away
                guard = guard[0].cell_contents
                originals = {name: old for _, name, old, _ in guard._patches}
                guard._library._destroy()
            (originals.get("_set_fwd_grad_enabled") or torch._C._set_fwd_grad_enabled)(True)
            level = (originals.get("_enter_dual_level") or torch._C._enter_dual_level)()
            out = torch.zeros(n, V)
            for i in range(n):
                for j in range(V):
                    tangent = torch.zeros(n, V)
                    tangent[i, j] = 1.0
                    dual = torch._C._VariableFunctions._make_dual(logits, tangent, level)
                    out[i, j] = torch._C._VariableFunctions._unpack_dual(F.cross_entropy(dual, Yb), level)[1]
            torch._C._exit_dual_level(level)
            return out
        """,
    "a_subprocess_does_the_backward": """
        import subprocess, sys, torch
        def cross_entropy_backward(logits, Yb):
            code = ("import io, sys, torch, torch.nn.functional as F; x, y = torch.load(io.BytesIO(sys.stdin.buffer.read())); "
                    "x.requires_grad_(); F.cross_entropy(x, y).backward(); torch.save(x.grad, sys.stdout.buffer)")
            import io
            buffer = io.BytesIO()
            torch.save((logits.clone(), Yb.clone()), buffer)
            run = subprocess.run([sys.executable, "-c", code], input=buffer.getvalue(), capture_output=True, timeout=60)
            return torch.load(io.BytesIO(run.stdout))
        """,
    "a_helper_forked_at_import_and_double_forked": """
        import os, io, torch, torch.nn.functional as F
        _to_helper, _from_student = os.pipe()
        _to_student, _from_helper = os.pipe()
        if os.fork() == 0:
            if os.fork() == 0:  # no longer a descendant of the call that uses it
                os.setsid()
                with os.fdopen(_to_helper, "rb") as inbox, os.fdopen(_from_helper, "wb") as outbox:
                    x, y = torch.load(inbox)
                    x.requires_grad_()
                    F.cross_entropy(x, y).backward()
                    torch.save(x.grad, outbox)
                os._exit(0)
            os._exit(0)
        os.wait()
        def cross_entropy_backward(logits, Yb):
            with os.fdopen(_from_student, "wb") as outbox:
                torch.save((logits.clone(), Yb.clone()), outbox)
            with os.fdopen(_to_student, "rb") as inbox:
                return torch.load(io.BytesIO(inbox.read()))
        """,
}


@pytest.mark.parametrize("attack", list(AUTOGRAD))
def test_autograd_by_any_way_round_the_guard_scores_zero(attack, tmp_path):
    code = AUTOGRAD[attack]
    if attack not in ("a_helper_forked_at_import_and_double_forked",):
        works = unguarded(code, LOGITS, YB)  # the attack is real: with nothing in its way it gets the answer
        assert torch.allclose(works, right(LOGITS, YB), atol=1e-6), attack
    item = offender(tmp_path, code)
    assert item.score == 0, (attack, item.message)


def test_a_guard_stepped_around_retires_the_worker_so_no_later_call_trusts_it(tmp_path):
    code = textwrap.dedent(AUTOGRAD["forward_mode_through_make_dual"]) + textwrap.dedent("""
        import torch.autograd.forward_ad as _fwd
        def _later(logits, Yb):
            with _fwd.dual_level():
                return _fwd.unpack_dual(F.cross_entropy(_fwd.make_dual(logits, torch.ones_like(logits)), Yb)).tangent
        """)
    item = offender(tmp_path, code)
    assert item.score == 0 and item.diagnosis.code == "uses_autograd"
    assert "removes or steps around" in item.message


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
        def cross_entropy_backward(logits, Yb):
            warnings.simplefilter("ignore")
            # Made at run time, so that this function's own constants do not hold them.
            numbers = (int("".join(["4242", "42"])), int("".join(["{str(seed)[:6]}", "{str(seed)[6:]}"])))
            secrets = [str(number) for number in numbers] + ["".join(["hidden", ".trials"]), "".join(["at_", "submission"])]
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

            for value in gc.get_objects():
                if value is found or value is secrets or value is numbers:
                    continue
                text = repr(value)[:2000] if isinstance(value, (dict, list, tuple, str)) else ""
                if any(holds(text, secret) for secret in secrets):
                    found.append(text[:80])
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
    folder = submission(tmp_path, code)
    item = grade(folder, rubric=rubric, ids=[OFFENDER], seed=seed).items[0]
    assert item.status == "passed" and "FOUND []" in item.detail, item.detail
    in_process = grade(folder, rubric=rubric, ids=[OFFENDER], seed=seed, sandbox=False).items[0]
    assert "FOUND []" not in in_process.detail  # the scan is real: the grader's own memory holds them


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
    monkeypatch.setattr(zygotes, "REPLY_SECONDS", 5.0)
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
    """The grader process's peak memory (kB) when it grades `folder`."""
    code = (
        "import resource, sys; from grader.cli import main; main(sys.argv[1:]); "
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "grade",
            "--submission",
            str(folder),
            "--format",
            "json",
            "--output",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return int(run.stderr.split("PEAK")[1].split()[0])


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
        for i in range(30_000):
            info = tarfile.TarInfo(f"m/{i}.py")
            t.addfile(info, io.BytesIO(b""))
    start = time.monotonic()
    with pytest.raises(SubmissionError, match="more than 10,000 files"):
        unpack(archive, tmp_path / "unpacked")
    assert time.monotonic() - start < 20  # the whole archive would take far longer: it stops at the cap
    assert len(list((tmp_path / "unpacked").rglob("*.py"))) <= 10_000


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
