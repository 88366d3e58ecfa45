"""How far the tolerance sits from both sides of the corpus in tests/formulations/, on
trials drawn from many runs' seeds.

Every formulation is graded on the trials of `--seeds` fresh seeds (as many runs). For
every correct formulation, the largest normalised error of any gradient in any trial of
any run; for every mistake, the smallest, over the runs, of the largest error of each
gradient it gets wrong (or its problem, when it is not a matter of closeness: a wrong
shape, a modified input...). Then the margins on each side of the tolerance, and the
verdicts that changed from one run to another (a flaky grade): there must be none.

    python benchmarks/corpus_margins.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.exercises.trials import new_seed  # noqa: E402
from grader.grading.grader import grade  # noqa: E402
from tests.test_formulations import CORPUS, declared, failing, ids_of  # noqa: E402


def graded(path: Path, seeds: list[int]):
    """The reports of one corpus file, one per seed (in this process: the corpus is ours)."""
    module, _ = declared(path)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submission"
        shutil.copytree(ROOT / "solutions", folder)
        with open(folder / f"{module}.py", "a", encoding="utf-8") as f:
            f.write("\n\n" + path.read_text())
        return [grade(folder, ids=ids_of(path, module), sandbox=False, seed=seed) for seed in seeds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="how many runs' seeds (default 10)")
    args = parser.parse_args()
    seeds = [new_seed() for _ in range(args.seeds)]
    worst_correct, least_wrong, flaky = 0.0, float("inf"), []
    print(f"correct formulations: largest error over all gradients, trials and {len(seeds)} runs")
    for path in sorted((CORPUS / "correct").glob("*.py")):
        runs = graded(path, seeds)
        errors = [
            c.error for r in runs for i in r.items for g in i.gradients for c in g.comparisons if c.error is not None
        ]
        worst_correct = max(worst_correct, max(errors))
        flaky += [f"{path.stem} (seed {r.seed})" for r in runs if not r.passed]
        print(f"  {max(errors):9.1e}  {path.stem}")
    print("mistakes: for each wrong gradient, the smallest over the runs of its largest error, or its problem")
    for path in sorted((CORPUS / "wrong").glob("*.py")):
        runs = graded(path, seeds)
        verdicts = {repr(sorted((k, sorted(v)) for k, v in failing(r).items())) for r in runs}
        if len(verdicts) > 1:
            flaky.append(path.stem)
        closest: dict[str, float] = {}  # gradient -> the smallest, over the runs, of its largest error
        problems: dict[str, set[str]] = {}  # gradient or id -> what else was wrong with it
        for report in runs:
            for item in report.items:
                if not item.gradients or not any(g.comparisons for g in item.gradients):
                    problems.setdefault(item.id, set()).add(item.status)
                for g in item.gradients:
                    if g.passed:
                        continue
                    errors = [c.error for c in g.comparisons if c.error is not None]
                    if errors and max(errors) > report.tolerance:
                        closest[g.name] = min(closest.get(g.name, float("inf")), max(errors))
                    else:
                        found = {c.problem for c in g.comparisons if c.problem and c.problem != "not_close"}
                        problems.setdefault(g.name, set()).update(found or {item.status})
        least_wrong = min([least_wrong, *closest.values()])
        parts = [f"{k} {v:.1e}" for k, v in closest.items()]
        parts += [f"{k} {','.join(sorted(v))}" for k, v in problems.items() if k not in closest]
        print(f"  {path.stem}: {'; '.join(parts)}")
    print(f"largest error of a correct formulation: {worst_correct:.1e}")
    print(f"smallest largest-error of a wrong gradient judged by closeness: {least_wrong:.1e}")
    print(f"verdicts that changed between runs: {len(flaky)}" + (f" ({', '.join(flaky)})" if flaky else ""))


if __name__ == "__main__":
    main()
