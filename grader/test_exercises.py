"""The exercise checks as pytest tests: `pytest grader [--submission DIR]`.

One test per exercise id (the id is in the node id); the grading itself is the same as
`backprop-ninja grade`, shared through the plugin's `backprop_ninja` fixture.
"""

import pytest

from grader.catalogue import IDS
from grader.plugin import RESULT


@pytest.mark.parametrize("exercise_id", IDS)
def test_exercise(exercise_id, backprop_ninja, request):
    result = backprop_ninja.result(exercise_id)
    request.node.stash[RESULT] = result
    backprop_ninja.results.append(result)
    if result.status != "passed":
        pytest.fail(f"{result.score:g}/{result.max_score:g} points: {result.message}", pytrace=False)
