"""How often the diagnosis names the mistake: a corpus of mistakes against the codes
written for it by hand, from the mistake, before the grader ever ran on it.

Corpora (tests/formulations/):
- `wrong`: one mistake per file, appended to the reference solution (DIAGNOSIS in each
  file); the diagnoses were developed on it;
- `heldout`: the same, written and annotated afterwards by someone who never saw the
  grader's code;
- `lecture`: 22 whole submissions written as lecture-followers write them (notebook
  globals, hard-coded sizes, keepdim everywhere, += into shared tensors, dicts that lack
  a key...), each with EXPECTED.json, annotated by someone who never saw the grader.

Precision of a code: of the gradients diagnosed with it, the share that were annotated
with it. Recall of a code: of the gradients annotated with it, the share diagnosed with
it. Overall precision leaves `unknown` out (it claims nothing). A gradient that is right
must get no diagnosis at all: those that do are counted.

    python benchmarks/diagnosis_precision.py [-v] [wrong|heldout|lecture] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.grading.grader import grade  # noqa: E402
from grader.grading.results import Report  # noqa: E402
from tests.test_formulations import CORPUS, codes, declared, declared_diagnosis, ids_of  # noqa: E402

Codes = dict[str, dict[str, str]]  # id -> gradient -> code


def appended(path: Path, seed: int) -> tuple[Codes, Report]:
    """A corpus file's expected codes, and the report of the solutions with it appended."""
    module, _ = declared(path)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submission"
        shutil.copytree(ROOT / "solutions", folder)
        with open(folder / f"{module}.py", "a", encoding="utf-8") as f:
            f.write("\n\n" + path.read_text())
        return declared_diagnosis(path), grade(folder, ids=ids_of(path, module), seed=seed)


def submitted(folder: Path, seed: int) -> tuple[Codes, Report]:
    """A whole submission's expected codes (EXPECTED.json), and its report."""
    items = json.loads((folder / "EXPECTED.json").read_text())["items"]
    want = {item_id: {g: e["code"] for g, e in spec["gradients"].items()} for item_id, spec in items.items()}
    return want, grade(folder, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default="wrong", choices=("wrong", "heldout", "lecture"))
    parser.add_argument("-v", action="store_true", help="list every disagreement")
    parser.add_argument("--seed", type=int, default=20261201, help="the trials' seed (default: the tests' own)")
    args = parser.parse_args()
    if args.corpus == "lecture":
        cases = [(p.name, submitted(p, args.seed)) for p in sorted((CORPUS / "lecture").iterdir()) if p.is_dir()]
    else:
        cases = [(p.stem, appended(p, args.seed)) for p in sorted((CORPUS / args.corpus).glob("*.py"))]
    diagnosed: Counter[str] = Counter()
    annotated: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    spurious = 0  # right gradients with a diagnosis
    for name, (want, report) in cases:
        got = codes(report)
        for item_id, gradients in got.items():
            for gradient, code in gradients.items():
                if gradient not in want.get(item_id, {}):
                    spurious += 1
                    if args.v:
                        print(f"  {name}: {item_id} {gradient}: right, yet diagnosed {code}")
        for item_id, gradients in want.items():
            for gradient, code in gradients.items():
                seen = got.get(item_id, {}).get(gradient, "passed")
                annotated[code] += 1
                diagnosed[seen] += 1
                agreed[code] += seen == code
                if seen != code:
                    confusion[(code, seen)] += 1
                    if args.v:
                        print(f"  {name}: {item_id} {gradient}: expected {code}, diagnosed {seen}")
    total = sum(annotated.values())
    named = total - diagnosed["unknown"] - diagnosed["passed"]
    named_right = sum(agreed.values()) - agreed["unknown"]
    print(
        f"{total} wrong gradients in {len(cases)} {'submissions' if args.corpus == 'lecture' else 'files'} "
        f"of {args.corpus}/ (seed {args.seed})"
    )
    print(f"precision: {named_right}/{named} = {named_right / max(named, 1):.1%} of the diagnoses other than unknown")
    print(f"recall:    {sum(agreed.values())}/{total} = {sum(agreed.values()) / max(total, 1):.1%}")
    print(f"right gradients that got a diagnosis: {spurious}")
    print(f"\n{'code':32} {'annotated':>9} {'diagnosed':>9} {'precision':>9} {'recall':>9}")
    for code in sorted(set(annotated) | set(diagnosed) - {"passed"}):
        precision = f"{agreed[code] / diagnosed[code]:.0%}" if diagnosed[code] else "-"
        recall = f"{agreed[code] / annotated[code]:.0%}" if annotated[code] else "-"
        print(f"{code:32} {annotated[code]:>9} {diagnosed[code]:>9} {precision:>9} {recall:>9}")
    if confusion:
        print("\ndisagreements (expected -> diagnosed):")
        for (want_code, seen), count in confusion.most_common():
            print(f"  {want_code} -> {seen}: {count}")


if __name__ == "__main__":
    main()
