"""How far a long command has got, on stderr, wherever stderr goes.

On a terminal: a bar for what can be counted (events verified, records loaded) and a line for
each step of what cannot (the parts of a packet). Anywhere else (a log file, a pipe, CI, a
service manager's journal): one line every ``SEALTRAIL_PROGRESS_SECONDS`` seconds (default 5;
0 turns the lines off), naming the step, the count and the time so far, so that a long run is
visibly alive without flooding the log. A command that ends within the interval prints nothing.

The lines come from an interval timer (``SIGALRM``), not from the work's own calls, so a step
that calls back rarely (drawing a packet's PDFs in a pool of processes) still shows every few
seconds; not from a thread, because a packet's PDFs are drawn by forking this process, which is
safe only while it runs one thread. Off the main thread (where no signal handler may be set)
the lines come when the work reports and the interval has passed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TextIO

import click

from api.console.exits import UsageError

INTERVAL_VARIABLE = "SEALTRAIL_PROGRESS_SECONDS"
DEFAULT_INTERVAL_SECONDS = 5.0


def interval_seconds(environ: dict[str, str] | None = None) -> float:
    """Seconds between two lines off a terminal; 0: no lines."""
    text = (os.environ if environ is None else environ).get(INTERVAL_VARIABLE, "").strip()
    if not text:
        return DEFAULT_INTERVAL_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 86400:
        raise UsageError(
            f"{INTERVAL_VARIABLE}={text!r} is not a number of seconds (0 turns it off)"
        )
    return seconds


class Progress:
    """What a long command has done so far; see the module docstring for where it shows."""

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO,
        interval: float,
        timed: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total: int | None = None
        self.done = 0
        self.step: str | None = None
        self._stream = stream
        self._terminal = stream.isatty()
        self._interval = interval
        self._timed = timed
        self._bar: Any | None = None
        self._clock = clock
        self._started = clock()
        self._last_line = self._started
        self._writing = False

    # -- what the work reports ----------------------------------------------------------------

    def count_to(self, total: int) -> None:
        """What is counted comes to ``total`` (a bar on a terminal)."""
        self.total = total
        if self._terminal and self._bar is None:
            self._bar = click.progressbar(length=max(total, 1), label=self.label, file=self._stream)
            self._bar.render_progress()

    def advance(self, count: int) -> None:
        """``count`` more done."""
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        self._line_if_due()

    def reach(self, done: int) -> None:
        """``done`` in all so far."""
        self.advance(done - self.done)

    def stage(self, what: str) -> None:
        """Now doing ``what`` (a step that cannot be counted)."""
        self.step = what
        if self._terminal:
            click.echo(f"  {what}...", file=self._stream)
        self._line_if_due()

    # -- the lines off a terminal --------------------------------------------------------------

    def line(self) -> str:
        """The line that says how far the command has got."""
        parts = [self.step] if self.step else []
        if self.total:
            share = min(100, 100 * self.done // self.total)
            parts.append(f"{self.done} of {self.total} ({share}%)")
        elif self.done:
            parts.append(f"{self.done} done")
        doing = ": ".join(parts) or "working"
        return f"{self.label}: {doing}, {self._clock() - self._started:.0f} s so far"

    def _line_if_due(self) -> None:
        # With the timer, it alone writes; without, the work's own calls do, once due.
        due = self._clock() - self._last_line >= self._interval
        if not self._timed and self._interval > 0 and due:
            self._write_line()

    def _write_line(self) -> None:
        if self._writing or self._terminal:
            return  # a line is being written (the timer came in the middle of it), or a terminal
        self._writing = True
        try:
            self._last_line = self._clock()
            self._stream.write(self.line() + "\n")
            self._stream.flush()
        except (OSError, ValueError):
            pass  # stderr closed: progress is not worth failing the command for
        finally:
            self._writing = False

    def on_timer(self, _signum: int, _frame: FrameType | None) -> None:
        self._write_line()

    def finish(self) -> None:
        """The bar's last state, and the terminal's line ended."""
        if self._bar is not None:
            self._bar.render_finish()


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Progress]:
    """Report a long command's progress on stderr (see the module docstring)."""
    stream = sys.stderr
    interval = interval_seconds()
    timed = (
        interval > 0
        and not stream.isatty()
        and threading.current_thread() is threading.main_thread()
    )
    reporter = Progress(label, stream=stream, interval=interval, timed=timed)
    if total is not None:
        reporter.count_to(total)
    previous = signal.signal(signal.SIGALRM, reporter.on_timer) if timed else None
    if timed:
        signal.setitimer(signal.ITIMER_REAL, interval, interval)
    try:
        yield reporter
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        reporter.finish()
