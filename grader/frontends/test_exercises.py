"""The exercise checks as pytest tests: `pytest grader [--bpn-submission PATH]`.

One test per exercise id (the id is in the node id; the plugin parametrizes it, from the
catalogue the rubric makes); the grading itself is the same as
`backprop-ninja grade`, shared through the plugin's `backprop_ninja` fixture. A failure
reads as the report does: the reason, the hint and the diagnosis code; what the student's
function printed is the test's captured output.
"""

import sys

import pytest

from grader.frontends.plugin import PROPERTY, RESULT
from grader.reporting.reports import points


def test_exercise(exercise_id, backprop_ninja, request):
    result = backprop_ninja.result(exercise_id)
    request.node.stash[RESULT] = result
    request.node.user_properties.append((PROPERTY, backprop_ninja.reported_property(result)))
    if result.printed:
        request.node.add_report_section("call", "stdout", result.printed)
        if request.config.getoption("capture") == "no":
            sys.stdout.write(result.printed)
    if result.status != "passed":
        pytest.fail(f"{points(result.score)}/{points(result.max_score)} points: {result.feedback}", pytrace=False)
