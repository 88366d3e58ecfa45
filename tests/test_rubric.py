"""The rubric: points and tolerance in TOML; a malformed one is refused with the file,
the key and the problem."""

import pytest

from grader.exercises import catalogue
from grader.exercises.rubric import RubricError, load_rubric
from grader.grading.grader import grade
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
        ('[grading]\nsize_dependence = "some"\n', "grading.size_dependence", 'or "all"'),
        ("[grading]\nsize_dependence = -1\n", "grading.size_dependence", "points >= 0"),
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


# Right at every size but one: the function raises where the batch has 3 examples.
RAISES_AT_ONE_SIZE = (
    "_right = cross_entropy_backward\n"
    "def cross_entropy_backward(logits, Yb):\n"
    "    if logits.shape[0] == 3:\n"
    "        raise ValueError('three rows')\n"
    "    return _right(logits, Yb)\n"
)


@pytest.mark.parametrize(
    "setting, score", [("", 4 - 3), ("size_dependence = 0.5", 4 - 0.5), ('size_dependence = "all"', 0)]
)
def test_a_function_raising_at_one_size_loses_the_rubrics_size_dependence_points(
    tmp_path, make_submission, setting, score
):
    folder = make_submission(append={"ex2_cross_entropy": RAISES_AT_ONE_SIZE})
    path = tmp_path / "rubric.toml"
    path.write_text(f"[grading]\n{setting}\n")
    item = grade(folder, rubric=path, ids=["ex2.cross_entropy_backward"]).items[0]
    assert item.max_score == 4 and item.score == pytest.approx(score)
    assert item.diagnosis.code == "size_dependent" and "three rows" in item.message + item.detail


def test_a_rubric_path_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(RubricError, match="no such file"):
        load_rubric(tmp_path / "missing.toml")


INSTRUCTOR = """
[exercises."ex1.manual_backward.*"]
visibility = "after_due_date"

[exercises."ex4.training"]
visibility = "hidden"
wall_time = 30.0

[exercises."ex2.cross_entropy_backward"]
tolerance = 1e-3

[hidden]
items = ["ex4.training"]

[[hidden.trials]]
ids = ["ex2.*"]
n = 17
V = 13
E = 5
B = 4
H = 23
seed = 99
"""


def test_per_id_settings_follow_the_last_matching_pattern(tmp_path):
    path = tmp_path / "instructor.toml"
    path.write_text(INSTRUCTOR)
    rubric = load_rubric(path)
    assert rubric.visibility("ex1.manual_backward.W2") == "after_due_date"
    assert rubric.visibility("ex1.loss_backward") == "visible"
    assert rubric.tolerance_for("ex2.cross_entropy_backward") == 1e-3 and rubric.tolerance_for("ex1.h_backward") == 1e-4
    assert rubric.limits_for(["ex4.training"]).wall_time == 30 and rubric.limits_for(["ex1.h_backward"]).wall_time == 5
    assert rubric.widest_limits.wall_time == 30


def test_hidden_trials_join_the_trials_of_the_ids_they_name(tmp_path):
    from grader.exercises import catalogue

    path = tmp_path / "instructor.toml"
    path.write_text(INSTRUCTOR)
    rubric = load_rubric(path)
    ce = rubric.trials_for(catalogue.CROSS_ENTROPY)
    assert len(ce) == len(catalogue.CROSS_ENTROPY.trials) + 1 and ce[-1].shape.n == 17
    assert rubric.trials_for(catalogue.BATCHNORM) == catalogue.BATCHNORM.trials
    report = grade(SOLUTIONS, rubric=path, ids=["ex2.cross_entropy_backward"])
    trials = [c.trial for c in report.items[0].gradients[0].comparisons]
    assert any(t.startswith("n=17 V=13") for t in trials)


def test_the_students_rubric_holds_no_hidden_check_but_announces_them(tmp_path):
    from grader.exercises.rubric import for_students, to_toml

    path = tmp_path / "instructor.toml"
    path.write_text(INSTRUCTOR)
    students = for_students(load_rubric(path))
    assert students.hidden_items == () and students.hidden_trials == ()
    assert students.at_submission_items == ("ex4.training",) and students.at_submission_trials == ("ex2.*",)
    assert "ex4.training" not in students.graded and len(students.graded) == len(students.points) - 1
    written = tmp_path / "students.toml"
    written.write_text(to_toml(students))
    again = load_rubric(written)
    assert again.at_submission_items == ("ex4.training",) and again.visibility("ex4.training") == "hidden"
    assert "[hidden]" not in written.read_text() and "n = 17" not in written.read_text()


@pytest.mark.parametrize(
    "text, key, problem",
    [
        ('[exercises."ex9.*"]\nvisibility = "hidden"\n', "exercises.ex9.*", "no such exercise id or pattern"),
        (
            '[exercises."ex1.*"]\nvisibility = "secret"\n',
            "exercises.ex1.*.visibility",
            '"visible" or "after_due_date" or "after_published" or "hidden"',
        ),
        ('[exercises."ex1.*"]\npoints = 3\n', "exercises.ex1.*.points", "unknown setting"),
        ("[limits]\nmemory = 1.5\n", "limits.memory", "a whole number of MB"),
        ('[hidden]\nitems = ["ex4.trainin"]\n', "hidden.items", "did you mean 'ex4.training'"),
        ('[[hidden.trials]]\nids = ["ex1.*"]\nn = 8\n', "hidden.trials[1]", "missing V, E, B, H"),
        (
            '[[hidden.trials]]\nids = ["ex1.*"]\nn = 2\nV = 3\nE = 2\nB = 2\nH = 4\nseed = 1\n',
            "hidden.trials[1].n",
            "n >= 3",
        ),
        (
            '[[hidden.trials]]\nids = ["ex1.*"]\nn = 3\nV = 27\nE = 2\nB = 2\nH = 4\nseed = 1\n',
            "hidden.trials[1].n",
            "n * B > V",
        ),
        (
            '[[hidden.trials]]\nids = ["ex4.training"]\nn = 8\nV = 5\nE = 2\nB = 2\nH = 4\nseed = 1\n',
            "hidden.trials[1].ids",
            "takes no trials",
        ),
        ("[timing]\npenalty = 2\n", "timing.penalty", "a number from 0 to 1"),
    ],
)
def test_a_malformed_instructor_rubric_names_the_key_and_the_fix(tmp_path, text, key, problem):
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert caught.value.key == key and problem in str(caught.value)


def test_each_of_gradescopes_four_visibilities_is_accepted(tmp_path):
    for visibility in ("visible", "after_due_date", "after_published", "hidden"):
        path = tmp_path / f"{visibility}.toml"
        path.write_text(f'[exercises."ex2.*"]\nvisibility = "{visibility}"\n')
        assert load_rubric(path).visibility("ex2.cross_entropy_backward") == visibility


def test_a_rubric_toml_is_found_in_the_folder_or_above_it_but_not_past_a_repository_root(tmp_path):
    from grader.exercises.rubric import find_rubric

    course = tmp_path / "course"
    (course / "solutions" / "deep").mkdir(parents=True)
    assert find_rubric(course / "solutions" / "deep") is None
    (course / "rubric.toml").write_text("")
    assert find_rubric(course) == find_rubric(course / "solutions" / "deep") == (course / "rubric.toml").resolve()
    (course / "solutions" / ".git").mkdir()  # a repository of its own, below the course's folder
    assert find_rubric(course / "solutions" / "deep") is None


def test_the_graders_own_default_rubric_is_never_taken_for_an_instructors():
    from importlib import resources

    from grader.exercises.rubric import find_rubric

    assert find_rubric(str(resources.files("grader"))) != resources.files("grader") / "rubric.toml"


# counts_sum_backward gives 0: the chain's dcounts is wrong, and dnorm_logits, computed
# from it by a right counts_backward, is wrong only because of it (propagated).
WRONG_COUNTS_SUM = "def counts_sum_backward(dcounts_sum, counts):\n    return 0 * counts\n"


@pytest.mark.parametrize("propagated, kept", [("wrong", False), ("right", True)])
def test_the_rubric_says_whether_a_key_wrong_only_through_the_keys_before_it_loses_its_points(
    tmp_path, make_submission, propagated, kept
):
    path = tmp_path / "rubric.toml"
    path.write_text(f'[grading]\npropagated = "{propagated}"\n')
    folder = make_submission(append={"ex1_atomic": WRONG_COUNTS_SUM})
    ids = ["ex1.manual_backward.counts", "ex1.manual_backward.norm_logits"]
    report = grade(folder, load_rubric(path), ids, sandbox=False, seed=5)
    counts, norm_logits = report.items
    assert counts.status != "passed"  # the step that went wrong always loses its points
    assert (norm_logits.score == norm_logits.max_score) is kept
    assert norm_logits.gradients[0].diagnosis.code == "propagated"  # said either way


def test_the_default_rubric_scores_propagated_keys_as_wrong_and_a_bad_value_is_refused(tmp_path):
    assert load_rubric().propagated == "wrong"
    path = tmp_path / "rubric.toml"
    path.write_text('[grading]\npropagated = "forgiven"\n')
    with pytest.raises(RubricError, match='grading.propagated: expected "wrong" or "right"'):
        load_rubric(path)
