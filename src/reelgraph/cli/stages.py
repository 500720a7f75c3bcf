"""The main job's stages on screen: one named bar per stage on a terminal, and plain lines,
flushed as they are written, when the output is a file, a pipe or a CI log."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from reelgraph.cli import render

if TYPE_CHECKING:
    from rich.progress import TaskID

    from reelgraph.demo import Stages

LINE_EVERY_S = 10.0  # at most one progress line per stage this often, besides start and end


class BarStages:
    """Each stage a bar of its own that stays on screen when done, with its time."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.count = 0

    def begin(self, name: str, total: int | None = None) -> None:
        self.count += 1
        self.task = self.progress.add_task(escape(f"{self.count}. {name}"), total=total)

    def update(self, done: int, total: int | None = None) -> None:
        if self.task is not None:
            if total is not None:
                self.progress.update(self.task, total=total)
            self.progress.update(self.task, completed=done)

    def end(self) -> None:
        if self.task is not None:
            total = self.progress.tasks[self.task].total or 1
            self.progress.update(self.task, total=total, completed=total)
            self.progress.stop_task(self.task)
            self.task = None


class LineStages:
    """``stage N: NAME``, then ``done/total`` at most every ``LINE_EVERY_S``, then the time."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.count = 0
        self.name = ""
        self.started = self.said = 0.0

    def _say(self, line: str) -> None:
        print(line, file=self.out, flush=True)
        self.said = time.monotonic()

    def begin(self, name: str, total: int | None = None) -> None:
        self.count += 1
        self.name = name
        self.started = time.monotonic()
        self._say(f"stage {self.count}: {name} ...")

    def update(self, done: int, total: int | None = None) -> None:
        if time.monotonic() - self.said >= LINE_EVERY_S:
            of = f"/{total:,}" if total is not None else ""
            self._say(f"stage {self.count}: {self.name}: {done:,}{of}")

    def end(self) -> None:
        self._say(f"stage {self.count}: {self.name}: done in "
                  f"{time.monotonic() - self.started:.1f} s")


@contextmanager
def stages() -> Iterator[Stages]:
    """Bars on a terminal, lines otherwise."""
    out = render.console()
    if not out.is_terminal:
        yield LineStages()
        return
    progress = Progress(SpinnerColumn(finished_text="[green]done[/]"),
                        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=out)
    with progress:
        yield BarStages(progress)
