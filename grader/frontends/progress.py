"""The progress of a long run (a class graded in a batch, exercise 4's training), drawn
by tqdm: the rate, the time left, the terminal's width. Where the output is no terminal
(a CI log, a notebook's text output) a line for every tenth of the run is written
instead of redraws, in tqdm's words."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm


class Progress:
    """Called as the run goes: progress(done, total, seconds, loss=None)."""

    def __init__(self, unit: str, stream: TextIO | None = None):
        self.unit = unit
        self.stream = stream or sys.stderr
        self._bar: Any = None
        self._tenth = -1

    def __call__(self, done: int, total: int, seconds: float, loss: float | None = None) -> None:
        postfix = f"loss {loss:.4f}" if loss is not None else None
        if self.stream.isatty():
            self._redraw(done, total, postfix)
        elif done * 10 // max(total, 1) > self._tenth:
            self._tenth = done * 10 // max(total, 1)
            line = tqdm.format_meter(done, total, seconds, unit=f" {self.unit}", postfix=postfix, ascii=True)
            self.stream.write(line + "\n")
            self.stream.flush()

    def _redraw(self, done: int, total: int, postfix: str | None) -> None:
        if self._bar is None:
            self._bar = tqdm(total=total, unit=f" {self.unit}", file=self.stream, dynamic_ncols=True, leave=True)
        self._bar.update(done - self._bar.n)
        if postfix:
            self._bar.set_postfix_str(postfix, refresh=False)
        if done >= total:
            self._bar.close()
