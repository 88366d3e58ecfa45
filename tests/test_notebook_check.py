"""check() and train_network() called from a notebook: the functions of the running
namespace, with the values and helpers they read, graded in the sandbox; the caller's
process keeps its state. Here each "cell" is a file run in one namespace, as a kernel
runs its cells (tests/test_notebook_kernel.py runs a real one)."""

import re

import pytest
import torch

from grader.exercises import catalogue
from grader.frontends.notebook import Checked, CheckError
from tests.conftest import SOLUTIONS


class Kernel:
    """A namespace that runs cells one after another, each from a file of its own so that
    its functions' source can be read, as IPython's cells can."""

    def __init__(self, folder):
        self.folder = folder
        self.namespace = {"__name__": "__main__"}
        self.count = 0

    def run(self, code):
        self.count += 1
        path = self.folder / f"cell{self.count}.py"
        path.write_text(code)
        exec(compile(code, str(path), "exec"), self.namespace)

    def eval(self, expression):
        """The value of an expression evaluated in the notebook (check() sees its globals)."""
        self.run(f"_ = {expression}")
        return self.namespace["_"]


@pytest.fixture
def kernel(tmp_path):
    k = Kernel(tmp_path)
    k.run("import torch\nimport torch.nn.functional as F\nfrom grader import check, train_network\n")
    return k


def solution(name):
    """A solution function's source, as a student would write it in a cell."""
    text = (SOLUTIONS / f"{catalogue.FUNCTIONS[name]}.py").read_text()
    return "import torch\n" + re.search(rf"^def {name}\(.*?(?=^def |\Z)", text, re.DOTALL | re.MULTILINE)[0]


def test_check_of_a_function_grades_it_by_its_name_with_a_cmp_line_per_gradient(kernel):
    kernel.run(solution("logits_backward"))
    result = kernel.eval("check(logits_backward)")
    assert isinstance(result, Checked) and result.passed and result.score == result.max_score == 3
    text = repr(result)
    assert text.startswith("ex1.logits_backward: 3/3 passed")
    assert all(f"{name:15s} | exact:" in text for name in ("dh", "dW2", "db2"))
    html = result._repr_html_()
    assert "<table" in html and 'class="cmp"' in html and "dW2" in html


def test_a_function_by_another_name_is_checked_as_the_id_given_for_that_check_only(kernel):
    kernel.run("def cross_entropy_backward(logits, Yb):\n    raise NotImplementedError\n")
    kernel.run(solution("cross_entropy_backward").replace("def cross_entropy_backward(", "def my_dlogits("))
    tried = kernel.eval('check("ex2.cross_entropy_backward", my_dlogits)')
    assert tried.passed
    (note,) = tried.report.notes
    assert note.startswith("this check grades my_dlogits as cross_entropy_backward, for that check only")
    assert "note: " + note in repr(tried)
    # What is handed in, and what check() grades, is what the name holds: the stub, until it is set.
    assert kernel.eval("check()").items[0].status == "not_implemented"
    kernel.run("cross_entropy_backward = my_dlogits")
    everything = kernel.eval("check()")
    assert everything.passed and everything.report.notes == ()
    assert kernel.eval("check(cross_entropy_backward)").passed  # by the name that holds it


def test_a_checks_notes_are_about_the_functions_it_checks_and_no_other(kernel):
    kernel.run("Xtr = torch.zeros(1000, 1000)\ndef emb_backwards(dembcat, Xb):\n    return Xtr[Xb]\n")
    kernel.run(solution("logits_backward"))
    result = kernel.eval("check(logits_backward)")
    assert result.passed and result.report.notes == ()


def test_check_without_arguments_grades_every_exercise_function_defined_so_far(kernel):
    kernel.run(solution("h_backward"))
    kernel.run("def cross_entropy_backward(logits, Yb):\n    raise NotImplementedError\n")
    result = kernel.eval("check()")
    assert [i.id for i in result.items] == ["ex1.h_backward", "ex2.cross_entropy_backward"]
    assert [i.status for i in result.items] == ["passed", "not_implemented"]
    assert "total" in repr(result) and "not implemented yet" in result._repr_html_()


def test_a_wrong_function_shows_its_diagnosis_its_hint_and_a_picture(kernel):
    kernel.run(
        "def cross_entropy_backward(logits, Yb):\n"
        "    d = torch.softmax(logits, 1)\n    d[torch.arange(logits.shape[0]), Yb] -= 1\n    return d\n"
    )
    result = kernel.eval("check(cross_entropy_backward)")
    found = result.items[0]
    assert not result.passed and found.diagnosis.code == "scaled"
    html = result._repr_html_()
    assert "<img" in html and "hint:" in html and "scaled" in html
    assert "diagnosis: scaled" in repr(result)


def test_globals_helpers_lambdas_and_small_tensors_travel_with_the_function(kernel):
    kernel.run(
        "n = batch_size = 32\nONE = torch.tensor(1.0)\nkind = torch.float32\nsquare = lambda t: t * t\n"
        "def dtanh(h):\n    return ONE - square(h)\n"
    )
    kernel.run("def h_backward(dh, h):\n    return (dh * dtanh(h)).to(kind)\n")
    result = kernel.eval("check(h_backward)")
    assert result.passed and result.report.notes == ()


def test_a_tensor_of_the_notebook_travels_and_the_check_says_it_fits_one_size(kernel):
    kernel.run("h_seen = torch.rand(32, 64)\ndef h_backward(dh, h):\n    return dh * (1 - h_seen**2)\n")
    result = kernel.eval("check(h_backward)")
    (note,) = result.report.notes
    assert note.startswith("h_seen (a tensor of the notebook, 32 x 64: a backward function that reads it is right")
    assert note.endswith("read by h_backward, travels") and not result.passed


def test_what_cannot_travel_stays_behind_and_the_check_says_so(kernel):
    kernel.run(
        "Xtr = torch.zeros(1000, 1000)\ng = torch.Generator()\n"
        "def h_backward(dh, h):\n    return dh * (1 - h**2) + 0 * Xtr.sum() + 0 * torch.rand(1, generator=g)\n"
    )
    result = kernel.eval("check(h_backward)")
    notes = " ".join(result.report.notes)
    assert "Xtr (a tensor of 1,000,000 values, too large" in notes and "g (a Generator)" in notes
    assert "NameError" in result.items[0].message and "cell2.py, line 4, in h_backward" in result.items[0].message


def test_an_endless_loop_is_stopped_at_the_time_limit_and_the_next_check_runs(kernel, tmp_path):
    rubric = tmp_path / "quick.toml"
    rubric.write_text("[limits]\nwall_time = 1.5\ncpu_time = 1.5\n")
    kernel.run("def h_backward(dh, h):\n    while True:\n        pass\n")
    stuck = kernel.eval(f"check(h_backward, rubric={str(rubric)!r})")
    assert stuck.items[0].status == "error" and "time limit" in stuck.items[0].message
    kernel.run(solution("h_backward"))
    assert kernel.eval("check(h_backward)").passed


def test_a_crash_costs_the_check_and_not_the_process(kernel):
    kernel.run("import ctypes\ndef h_backward(dh, h):\n    return ctypes.string_at(0)\n")
    crashed = kernel.eval("check(h_backward)")
    assert crashed.items[0].status == "error" and not crashed.passed
    kernel.run(solution("h_backward"))
    assert kernel.eval("check(h_backward)").passed


def test_a_check_leaves_the_processs_threads_and_random_state_as_they_were(kernel):
    torch.set_num_threads(2)
    state = torch.random.get_rng_state()
    kernel.run(solution("h_backward"))
    kernel.eval("check(h_backward)")
    assert torch.get_num_threads() == 2 and torch.equal(torch.random.get_rng_state(), state)
    torch.set_num_threads(1)


@pytest.mark.parametrize(
    "call, words",
    [
        ("check(dlogits_fn)", 'say which id it is for: check("ex2.cross_entropy_backward", dlogits_fn)'),
        ("check(h_backwards)", "did you mean h_backward?"),
        ('check("ex1.logits_backward")', "defines no function logits_backward yet: run the cell"),
        ('check("ex1", h_backwards)', "names the ids of 21 functions"),
        ('check("ex9")', "no exercise id matches 'ex9'"),
        ('check("ex1.h_backward", exec_made)', "cannot read the source of exec_made"),
    ],
)
def test_check_refuses_what_it_cannot_follow_and_says_what_to_do(kernel, call, words):
    kernel.run("def dlogits_fn(logits, Yb):\n    return logits\n\ndef h_backwards(dh, h):\n    return dh\n")
    exec("def exec_made(dh, h):\n    return dh\n", kernel.namespace)  # no file holds its source
    with pytest.raises(CheckError, match=re.escape(words)):
        kernel.run(call)


def test_train_network_trains_with_the_notebooks_function_and_draws_the_curve(kernel):
    kernel.run(solution("mlp_backward"))
    trained = kernel.eval("train_network(mlp_backward, steps=300)")
    assert trained.reached and 2.0 < trained.result["train_loss"] < 3.5
    assert "train loss" in repr(trained) and "<img" in trained._repr_html_()


def test_train_network_with_a_stub_says_it_did_not_run(kernel):
    kernel.run("def mlp_backward(fwd):\n    raise NotImplementedError('write this function')\n")
    trained = kernel.eval("train_network(mlp_backward, steps=300)")
    assert not trained.reached and repr(trained) == "training did not run: mlp_backward is not implemented yet"


def test_train_network_out_of_time_says_how_far_it_got_and_how_to_give_it_more(kernel):
    kernel.run(solution("mlp_backward"))
    trained = kernel.eval("train_network(mlp_backward, timeout=1)")
    assert not trained.reached and "of 200,000" in repr(trained) and "time limit, 1 s" in repr(trained)
    assert "to give it the time it needs at this pace: train_network(mlp_backward, timeout=" in repr(trained)
    with pytest.raises(CheckError, match="timeout=0"):
        kernel.eval("train_network(mlp_backward, timeout=0)")


def test_a_function_imported_from_a_file_takes_that_files_globals_along(kernel, tmp_path):
    (tmp_path / "mine.py").write_text(
        "import torch as T\nSCALE = 1.0\n\ndef h_backward(dh, h):\n    return SCALE * dh * (1 - T.square(h))\n"
    )
    kernel.run(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nfrom mine import h_backward\n")
    result = kernel.eval("check(h_backward)")
    assert result.passed, repr(result)


def test_a_decorated_function_is_checked_as_written_decorator_and_all(kernel):
    kernel.run("@torch.no_grad()\n" + solution("h_backward").replace("import torch\n", ""))
    assert kernel.eval("check(h_backward)").passed


def test_one_error_under_every_key_of_manual_backward_is_shown_once(kernel):
    kernel.run("def manual_backward(fwd):\n    raise ValueError('not yet')\n")
    result = kernel.eval("check(manual_backward)")
    assert len(result.items) == 26 and repr(result).count("Traceback") == 1
    assert result._repr_html_().count("<details>") == 1
