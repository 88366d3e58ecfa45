"""Who handed in each submission of a class: Gradescope's export names them in its
submission_metadata.yml (a group submission names every member), GitHub Classroom's
download in its repositories' names (`<assignment-slug>-<github-user>`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.calls.failures import SubmissionError
from grader.calls.files import NotRegular, read_regular
from grader.calls.text import one_line

METADATA = "submission_metadata.yml"
MAX_METADATA = 16 * 2**20  # bytes: a class of a thousand takes a few hundred KB
CLONED = "-submissions"  # `gh classroom clone student-repos` clones into <assignment-slug>-submissions/


@dataclass(frozen=True)
class Submitter:
    """One person behind a submission, as far as the download says (empty where it
    says nothing)."""

    name: str = ""
    email: str = ""
    sid: str = ""  # the student id of Gradescope's roster
    github: str = ""  # the GitHub user (a team, for a group assignment) whose Classroom repository it is


def submitters(root: Path, names: Iterable[str]) -> dict[str, tuple[Submitter, ...]]:
    """Submission name -> who handed it in: from Gradescope's metadata where `root`
    holds it, else from the names of Classroom's repositories; a submission that neither
    names is left out."""
    names = list(names)
    if (root / METADATA).exists():
        return gradescope(root / METADATA)
    return classroom(root, names)


def gradescope(path: Path) -> dict[str, tuple[Submitter, ...]]:
    """Gradescope's submission_metadata.yml, read with YAML's safe loader under a cap:
    `submission_<id>` -> `:submitters:`, each with its `:name:`, `:sid:` and `:email:`."""
    import yaml

    try:
        text, size = read_regular(path, MAX_METADATA)
    except (NotRegular, OSError) as error:
        raise SubmissionError(f"{path} cannot be read ({error}): give Gradescope's export as it was unzipped") from None
    if size > MAX_METADATA:
        raise SubmissionError(
            f"{path} is {size:,} bytes, more than Gradescope's metadata takes (at most {MAX_METADATA:,})"
        )
    try:
        data = yaml.load(text, Loader=_loader())  # the safe loader's kind: plain data only
    except yaml.YAMLError as error:
        raise SubmissionError(
            f"{path} is not YAML ({one_line(str(error))}): give Gradescope's export as it was"
        ) from None
    if not isinstance(data, dict):
        raise SubmissionError(
            f"{path} holds {type(data).__name__}, where Gradescope's metadata maps each submission_<id> to its "
            ":submitters: list: give Gradescope's export as it was"
        )
    return {str(key): tuple(_people(entry)) for key, entry in data.items()}


def _people(entry: Any) -> list[Submitter]:
    people = entry.get(":submitters") if isinstance(entry, dict) else None
    return [
        Submitter(_text(person.get(":name")), _text(person.get(":email")), _text(person.get(":sid")))
        for person in people or ()
        if isinstance(person, dict)
    ]


def _text(value: Any) -> str:
    """A field as text: a student id of digits alone is read by YAML as a number."""
    return "" if value is None else str(value)


def classroom(root: Path, names: list[str]) -> dict[str, tuple[Submitter, ...]]:
    """Repository `<slug>-<user>` -> its GitHub user, for the assignment's slug."""
    slug = assignment_slug(root, names)
    if not slug:
        return {}
    return {n: (Submitter(github=n[len(slug) + 1 :]),) for n in names if n.startswith(f"{slug}-") and n != f"{slug}-"}


def assignment_slug(root: Path, names: list[str]) -> str:
    """The Classroom assignment's slug: from the folder's name where it is
    `<slug>-submissions` (as `gh classroom clone student-repos` names it); elsewhere the
    longest prefix up to a hyphen that every repository shares, when there are two at
    least ("" when nothing says)."""
    folder = root.resolve().name
    if folder.endswith(CLONED) and folder != CLONED:
        return folder[: -len(CLONED)]
    if len(names) < 2:
        return ""
    shared = os.path.commonprefix(names)
    return shared[: shared.rfind("-")] if "-" in shared else ""


def _loader() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        """YAML's safe loader, which reads a tag it does not know (Ruby's, that a Rails
        export may write: `!ruby/object:BigDecimal`) as the plain value it tags."""

    def untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)  # type: ignore[arg-type]

    Loader.add_multi_constructor("!", untagged)
    return Loader
