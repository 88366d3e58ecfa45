"""Every correct way of writing a gradient passes, and every realistic mistake fails on
exactly the gradients it gets wrong: the corpus in tests/formulations/.

Each corpus file names the student module it patches (MODULE) and, for a mistake, the
gradients that must fail (WRONG: id -> gradient names). Its functions are appended to a
copy of the reference module, so they override the reference ones, and the ids of the
functions it defines are graded.
"""

import ast
from pathlib import Path

import pytest

from grader.exercises import catalogue
from grader.grading.grader import grade

CORPUS = Path(__file__).parent / "formulations"


def declared(path):
    """MODULE and WRONG of a corpus file, read without running it."""
    values = {}
    for node in ast.parse(path.read_text()).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id in ("MODULE", "WRONG"):
            values[target.id] = ast.literal_eval(node.value)
    return values["MODULE"], values["WRONG"]


def declared_diagnosis(path):
    """DIAGNOSIS of a corpus file: id -> gradient -> the code expected for it."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DIAGNOSIS":
            return ast.literal_eval(node.value)
    return {}


def ids_of(path, module):
    """The ids of the functions a corpus file defines. (Other ids of the module may change
    too: the reference manual_backward calls the atomic functions a file overrides.)"""
    defined = {node.name for node in ast.parse(path.read_text()).body if isinstance(node, ast.FunctionDef)}
    ids = [item.id for item in catalogue.ITEMS if item.exercise.module == module and item.exercise.function in defined]
    training = catalogue.TRAINING
    return ids + ([training.id] if training.module == module and training.function in defined else [])


def failing(report):
    """id -> the names of the gradients that failed, for every id not fully right."""
    return {
        item.id: {g.name for g in item.gradients if not g.passed} or {"training"}
        for item in report.items
        if item.status != "passed"
    }


def codes(report):
    """id -> gradient -> the diagnosis code, for every wrong gradient of a report, and for
    the gradients of an id that loses points for raising at some sizes only."""
    found = {}
    for item in report.items:
        charged = item.status != "passed" and all(g.passed for g in item.gradients) and item.gradients
        for g in item.gradients:
            if not g.passed or charged:
                found.setdefault(item.id, {})[g.name] = (g.diagnosis or item.diagnosis).code
    return found


def corpus(kind):
    files = sorted((CORPUS / kind).glob("*.py"))
    assert files, f"no corpus files in {CORPUS / kind}"
    return [pytest.param(f, id=f.stem) for f in files]


@pytest.mark.parametrize("path", corpus("correct"))
def test_a_correct_formulation_gets_full_marks_and_no_flag(path, make_submission):
    module, wrong = declared(path)
    assert wrong == {}
    report = grade(make_submission(append={module: path.read_text()}), ids=ids_of(path, module))
    assert failing(report) == {}
    assert report.score == report.max_score
    assert [item.id for item in report.items if item.flags] == []


@pytest.mark.parametrize("path", corpus("wrong") + corpus("heldout"))
def test_a_mistake_fails_exactly_the_gradients_it_gets_wrong(path, make_submission):
    module, wrong = declared(path)
    report = grade(make_submission(append={module: path.read_text()}), ids=ids_of(path, module))
    assert failing(report) == {k: set(v) for k, v in wrong.items()}
    for item in report.items:
        if item.id in wrong:
            assert item.message, f"{item.id} lost points without a reason"
            assert item.diagnosis is not None and item.diagnosis.message


# The annotated codes were checked on the trials of this seed: where a mistake weighs
# little in some draw, the closest description can change (unknown or close, say), while
# the verdicts above hold on every draw (benchmarks/corpus_margins.py: 100 runs).
DIAGNOSIS_SEED = 20261201


@pytest.mark.parametrize("path", corpus("wrong"))
def test_each_mistake_of_the_development_corpus_gets_its_expected_diagnosis(path, make_submission):
    module, _ = declared(path)
    report = grade(make_submission(append={module: path.read_text()}), ids=ids_of(path, module), seed=DIAGNOSIS_SEED)
    assert codes(report) == declared_diagnosis(path)
