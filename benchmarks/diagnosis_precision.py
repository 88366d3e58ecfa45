"""How often the diagnosis names the mistake: the corpus of mistakes in
tests/formulations/wrong/ against the codes expected for it (DIAGNOSIS in each file,
written from the mistake, independently of the grader).

Precision: of the diagnoses other than `unknown`, the share that are the expected code.
Recall: of all wrong gradients, the share whose diagnosis is the expected code.

    python benchmarks/diagnosis_precision.py [-v] [wrong|heldout]

`wrong` (the default) is the corpus the diagnoses were developed on; `heldout` was
written and annotated afterwards, by someone who never saw the grader's code, and
measured once without changing the rules.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.grading import grade  # noqa: E402
from tests.test_formulations import CORPUS, codes, declared, declared_diagnosis, ids_of  # noqa: E402


def diagnosed(path: Path) -> dict[str, dict[str, str]]:
    module, _ = declared(path)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submission"
        shutil.copytree(ROOT / "solutions", folder)
        with open(folder / f"{module}.py", "a", encoding="utf-8") as f:
            f.write("\n\n" + path.read_text())
        return codes(grade(folder, ids=ids_of(path, module)))


def main() -> None:
    verbose = "-v" in sys.argv
    folder = CORPUS / ("heldout" if "heldout" in sys.argv else "wrong")
    right = named = named_right = total = 0
    confusion: Counter[tuple[str, str]] = Counter()
    for path in sorted(folder.glob("*.py")):
        want, got = declared_diagnosis(path), diagnosed(path)
        for item_id, gradients in want.items():
            for gradient, code in gradients.items():
                seen = got.get(item_id, {}).get(gradient, "passed")
                total += 1
                named += seen != "unknown"
                right += seen == code
                named_right += seen == code != "unknown"
                if seen != code:
                    confusion[(code, seen)] += 1
                    if verbose:
                        print(f"  {path.stem}: {item_id} {gradient}: expected {code}, diagnosed {seen}")
    print(f"{total} wrong gradients in {len(list(folder.glob('*.py')))} files of {folder.name}/")
    print(
        f"precision: {named_right}/{named} = {named_right / named:.1%} of the diagnoses other than unknown are the expected code"
    )
    print(f"recall:    {right}/{total} = {right / total:.1%} of the wrong gradients get the expected code")
    for (want, seen), count in confusion.most_common():
        print(f"  expected {want}, diagnosed {seen}: {count}")


if __name__ == "__main__":
    main()
