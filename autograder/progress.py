"""Progress of a grading run: done / failed / remaining and the time left.

On a terminal it is one live line, rewritten in place, with log lines
printed above it; otherwise (a log file, CI, a pipe) one plain line per
finished submission, so the log reads the same afterwards.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

CLEAR_LINE = "\r\x1b[K"


def duration(seconds: float) -> str:
    """``75`` -> ``"1m15s"``; under a minute ``"42s"``."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
    """Counts finished submissions and shows them.

    total: submissions to grade. out: where to write (default stdout).
    live: rewrite one line in place (default: when ``out`` is a terminal).
    clock: seconds, monotonic (a parameter so tests can drive it).
    """

    def __init__(self, total: int, out: TextIO | None = None, live: bool | None = None, clock=time.monotonic):
        self.total, self.done, self.failed = total, 0, 0
        self.out = out or sys.stdout
        self.live = self.out.isatty() if live is None else live
        self.clock = clock
        self.started = clock()
        self._show()

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed

    def status(self) -> str:
        """``"3 done, 1 failed, 6 remaining, ETA 40s"``: the ETA is the pace so far times what is left."""
        line = f"{self.done} done, {self.failed} failed, {self.remaining} remaining"
        finished = self.done + self.failed
        if finished and self.remaining:
            line += f", ETA {duration((self.clock() - self.started) / finished * self.remaining)}"
        return line

    def note(self, line: str) -> None:
        """A log line, printed above the live line."""
        self._write(f"{CLEAR_LINE if self.live else ''}{line}\n")
        self._show()

    def finished(self, student: str, ok: bool) -> None:
        """Count ``student``'s submission as graded (ok) or failed."""
        if ok:
            self.done += 1
        else:
            self.failed += 1
        if self.live:
            self._show()
        else:
            self._write(f"{'graded' if ok else 'FAILED'} {student}: {self.status()}\n")

    def close(self) -> None:
        """End the live line; a summary with the elapsed time."""
        summary = f"{self.status()} in {duration(self.clock() - self.started)}"
        self._write(f"{CLEAR_LINE if self.live else ''}{summary}\n")

    def _show(self) -> None:
        if self.live:
            self._write(f"{CLEAR_LINE}grading: {self.status()}")

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()
