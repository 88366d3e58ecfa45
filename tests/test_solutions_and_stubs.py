"""The reference solutions earn every point, the stubs none, and the two stay in sync."""

import pytest

from grader.exercises import catalogue
from grader.frontends.stubs import MarkerError, drift, make_stub
from grader.grading.grader import grade
from tests.conftest import EXERCISES, SOLUTIONS


def test_solutions_get_full_marks_on_every_id(solutions_report):
    short = [(i.id, i.message) for i in solutions_report.items if i.score != i.max_score]
    assert short == []
    assert [i.id for i in solutions_report.items] == list(catalogue.IDS)
    assert solutions_report.score == solutions_report.max_score > 0


def test_every_spec_id_is_graded():
    atomic = [i for i in catalogue.IDS if i.startswith("ex1.") and not i.startswith("ex1.manual_backward")]
    chain = [i for i in catalogue.IDS if i.startswith("ex1.manual_backward.")]
    assert len(atomic) == 20 and len(chain) == 26
    assert catalogue.IDS[-4:] == (
        "ex2.cross_entropy_backward",
        "ex3.batchnorm_backward",
        "ex4.mlp_backward",
        "ex4.training",
    )


def test_solution_gradients_stay_far_below_the_tolerance(solutions_report):
    worst = max(c.error for i in solutions_report.items for g in i.gradients for c in g.comparisons)
    assert worst < solutions_report.tolerance / 20


def test_stubs_score_zero_and_say_not_implemented_yet():
    report = grade(EXERCISES)
    assert report.score == 0
    assert {i.status for i in report.items} == {"not_implemented"}
    assert {i.message for i in report.items} == {"not implemented yet"}


def test_exercises_are_the_stubs_of_the_solutions():
    assert drift(SOLUTIONS, EXERCISES) == [], "run `backprop-ninja stubs` after changing solutions/"


def test_a_stub_keeps_the_docstring_and_hides_the_marked_code():
    source = 'def f(x):\n    """Doc."""\n    # BEGIN SOLUTION\n    return x * 2\n    # END SOLUTION\n'
    stub = make_stub(source)
    assert '"""Doc."""' in stub
    assert "return x * 2" not in stub
    assert "    raise NotImplementedError" in stub


def test_no_solution_line_leaks_into_the_stubs():
    for path in SOLUTIONS.glob("*.py"):
        hidden, inside = [], False
        for line in path.read_text().splitlines():
            if line.strip() == "# BEGIN SOLUTION":
                inside = True
            elif line.strip() == "# END SOLUTION":
                inside = False
            elif inside and line.strip() and not line.strip().startswith("#"):
                hidden.append(line.strip())
        stub = (EXERCISES / path.name).read_text()
        stub_lines = {line.strip() for line in stub.splitlines()}
        assert hidden and not [line for line in hidden if line in stub_lines]


@pytest.mark.parametrize(
    "source, problem",
    [
        ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n# END SOLUTION\n", "without a # BEGIN SOLUTION"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the block opened on line 1"),
    ],
)
def test_unpaired_markers_are_reported_with_file_and_line(source, problem):
    with pytest.raises(MarkerError, match=f"sol.py, line .*{problem}"):
        make_stub(source, "sol.py")
