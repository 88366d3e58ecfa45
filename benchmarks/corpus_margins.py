"""How far the tolerance sits from both sides of the corpus in tests/formulations/.

For every correct formulation, the largest normalised error of any gradient in any
trial; for every mistake, the largest error of each gradient it gets wrong (or its
problem, when it is not a matter of closeness: a wrong shape, a modified input...).
Prints both, then the margins on each side of the tolerance.

    python benchmarks/corpus_margins.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.grading import grade
from tests.test_formulations import CORPUS, declared, ids_of


def graded(path: Path):
    module, wrong = declared(path)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submission"
        shutil.copytree(ROOT / "solutions", folder)
        with open(folder / f"{module}.py", "a", encoding="utf-8") as f:
            f.write("\n\n" + path.read_text())
        return grade(folder, ids=ids_of(path, module)), wrong


def main() -> None:
    worst_correct, least_wrong = 0.0, float("inf")
    print("correct formulations: largest error over all gradients and trials")
    for path in sorted((CORPUS / "correct").glob("*.py")):
        report, _ = graded(path)
        error = max(c.error for i in report.items for g in i.gradients for c in g.comparisons if c.error is not None)
        worst_correct = max(worst_correct, error)
        print(f"  {error:9.1e}  {path.stem}")
    print("mistakes: for each wrong gradient, its largest error over the trials, or its problem")
    for path in sorted((CORPUS / "wrong").glob("*.py")):
        report, _ = graded(path)
        found = []
        for item in report.items:
            if item.status == "passed":
                continue
            if not item.gradients or not any(g.comparisons for g in item.gradients):
                found.append(f"{item.id}: {item.status}")
            for g in item.gradients:
                if g.passed:
                    continue
                errors = [c.error for c in g.comparisons if c.error is not None]
                problems = sorted({c.problem for c in g.comparisons if c.problem and c.problem != "not_close"})
                if errors and max(errors) > report.tolerance:
                    least_wrong = min(least_wrong, max(errors))
                found.append(f"{g.name} {max(errors):.1e}" if errors and max(errors) > report.tolerance
                             else f"{g.name} {','.join(problems) or item.status}")  # fmt: skip
        print(f"  {path.stem}: {'; '.join(found)}")
    print(f"largest error of a correct formulation: {worst_correct:.1e}")
    print(f"smallest largest-error of a wrong gradient judged by closeness: {least_wrong:.1e}")


if __name__ == "__main__":
    main()
