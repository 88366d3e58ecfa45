"""Student text is data: what a submission prints, raises or names reaches terminals,
web pages, XML and spreadsheets only after `clean`, and a spreadsheet cell only after
`csv_cell`. Every cleaner here takes time linear in its text, whatever the text: no
pattern can try a match from each of many starts and run to the end from each.
"""

from __future__ import annotations

import re

# ANSI/VT sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), DCS, SOS, PM
# and APC strings (ESC P/X/^/_ ... ESC \), other ESC pairs, and their 8-bit forms. A
# string sequence left unterminated runs to the end of the text (as a terminal would
# swallow it), so that each match ends where the next search starts.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b\]|\x9d)(?:[^\x07\x1b\x9c]|\x1b(?!\\))*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])(?:[^\x1b\x9c]|\x1b(?!\\))*(?:\x1b\\|\x9c)?"
    r"|\x1b[@-Z\\-_]?",
)
# Control characters other than tab and newline (C0, DEL, C1), and the Unicode controls
# that reorder or hide text (bidirectional overrides and isolates, zero-width marks);
# XML 1.0 also forbids U+FFFE and U+FFFF and lone surrogates.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n")


def clean(text: str) -> str:
    """`text` with escape sequences and control characters removed and every line end a
    plain newline: safe to print on a terminal, embed in HTML, XML or Markdown."""
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def one_line(text: str) -> str:
    """`text` cleaned, on one line: for a name or a note, which a line break in a file
    name must not turn into lines of their own in a report."""
    return " ".join(clean(text).split("\n"))


# Every character Markdown (GitHub's flavour) gives a meaning in text: escaped, or, where
# an autolink would start (https://, www., an address's @), made an entity (a zero-width
# space before an @), which reads the same and links nothing in cmark-gfm, GitHub's own
# renderer (tests/test_reports.py renders it).
_MARKDOWN = str.maketrans(
    {
        **{c: "\\" + c for c in "\\|[]`*_~!.$"},
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        ":": "&#58;",
        "@": "&#8203;@",
        "\n": " ",
    }
)


def markdown_cell(text: str) -> str:
    """`text` for a cell of a Markdown table that a web page renders (GitHub's job
    summary): no raw HTML, no link or autolink, no emphasis, strike-through, code span
    or math, one line."""
    return clean(text).translate(_MARKDOWN)


def csv_cell(value: object) -> object:
    """A value for a CSV cell that no spreadsheet reads as a formula: text starting with
    =, +, -, @ (or a tab or line end) is prefixed with a quote; numbers stay numbers."""
    if not isinstance(value, str):
        return value
    value = clean(value)
    return f"'{value}" if value.startswith(_FORMULA) else value
