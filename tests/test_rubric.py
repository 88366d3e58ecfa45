"""The rubric: points and tolerance in TOML; a malformed one is refused with the file,
the key and the problem."""

import pytest

from grader import catalogue
from grader.grading import grade
from grader.rubric import RubricError, load_rubric
from tests.conftest import SOLUTIONS


def test_the_default_rubric_gives_points_to_every_id_and_splits_them_per_gradient():
    rubric = load_rubric()
    assert set(rubric.points) == set(catalogue.IDS)
    assert rubric.tolerance == 1e-4
    for item in catalogue.ITEMS:
        if item.exercise.module == "ex1_atomic":
            assert rubric.points[item.id] == len(item.gradients)


def test_an_instructors_rubric_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text('[grading]\ntolerance = 1e-3\n[points]\n"ex4.training" = 20\n')
    rubric = load_rubric(path)
    assert rubric.points["ex4.training"] == 20 and rubric.points["ex1.loss_backward"] == 1
    assert rubric.tolerance == 1e-3 and rubric.sources[-1] == str(path)


def test_the_rubric_sets_the_points_of_the_report(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text('[points]\n"ex3.batchnorm_backward" = 1.5\n')
    report = grade(SOLUTIONS, rubric=path, ids=["ex3.batchnorm_backward"])
    assert report.items[0].score == report.items[0].max_score == 1.5


@pytest.mark.parametrize(
    "text, key, problem",
    [
        ('[points]\n"ex1.loss_backwards" = 1\n', "points.ex1.loss_backwards", "did you mean 'ex1.loss_backward'?"),
        ('[points]\n"ex1.loss_backward" = -1\n', "points.ex1.loss_backward", "expected a number of points >= 0"),
        ('[points]\n"ex1.loss_backward" = true\n', "points.ex1.loss_backward", "got True"),
        ("[grading]\ntolerance = 2\n", "grading.tolerance", "between 0 and 1"),
        ("[grading]\ntimeout = 2\n", "grading.timeout", "unknown setting"),
        ("[scores]\n", "scores", "unknown section; expected one of: grading"),
        ("points = 3\n", "points", "expected a table [points]"),
        ("[points\n", "(syntax)", "not valid TOML"),
    ],
)
def test_a_malformed_rubric_names_the_file_the_key_and_the_problem(tmp_path, text, key, problem):
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert caught.value.source == str(path) and caught.value.key == key
    assert problem in str(caught.value)


def test_a_rubric_path_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(RubricError, match="no such file"):
        load_rubric(tmp_path / "missing.toml")
