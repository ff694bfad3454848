"""The grader's own guard over one running kernel.

nbclient's per-cell timeout only works while the grader is waiting for a
reply from the kernel. The watchdog is a thread that needs nothing from the
kernel: it kills the whole submission when the notebook's wall-clock
deadline passes, or when the submission's scratch folder (everything it can
write) grows past its disk budget. RLIMIT_FSIZE caps each file; this caps
them all together, to within what can be written between two looks
(``interval`` seconds).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable


def disk_usage(folder: Path, max_entries: int = 20_000) -> int:
    """Bytes allocated under ``folder`` (not following symlinks); sparse files count what they use.

    A folder with more than ``max_entries`` entries counts as over any budget: walking a
    million empty files must not stall the watchdog.
    """
    total, seen = 0, 0
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            seen += 1
            if seen > max_entries:
                return 2**62
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


class Watchdog(threading.Thread):
    """Kill the submission at the deadline or beyond the disk budget; ``reason`` says which.

    deadline: time.monotonic() value after which the notebook is stopped.
    scratch: the folder holding everything the kernel can write.
    disk_bytes: the most it may hold.
    kill: kills every process of the submission (called from this thread).
    """

    def __init__(self, deadline: float, scratch: Path, disk_bytes: int, kill: Callable[[], None],
                 interval: float = 0.5):
        super().__init__(daemon=True, name="autograder-watchdog")
        self.deadline, self.scratch, self.disk_bytes, self.kill = deadline, scratch, disk_bytes, kill
        self.interval = interval
        self.reason: str | None = None
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            if time.monotonic() > self.deadline:
                self.reason = "the notebook ran past its wall-clock deadline and was stopped by the grader"
            elif disk_usage(self.scratch) > self.disk_bytes:
                self.reason = (f"the notebook wrote more than {self.disk_bytes // 2**20} MiB of files "
                               f"and was stopped by the grader")
            if self.reason:
                self.kill()
                return

    def stop(self) -> None:
        self._stopped.set()
        self.join()
