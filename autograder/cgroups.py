"""Limits on a submission as a whole: a cgroup per graded kernel.

rlimits (``prlimit``) cap each process on its own, so a kernel that forks
three children can hold three times the memory cap, and RLIMIT_NPROC does not
bind a grader running as root. A cgroup caps all of the submission's
processes together: ``memory`` (all their memory, tmpfs pages included) and
``pids`` (how many processes and threads exist at once, so a fork bomb is
stopped by a limit, not by the CPU budget). Both cgroup layouts are handled:
the unified v2 tree (``/sys/fs/cgroup/cgroup.controllers``) and the v1
``memory`` and ``pids`` hierarchies.

Creating cgroups needs the right to write under /sys/fs/cgroup (root, or a
delegated subtree). Where the grader lacks it, :meth:`Cgroup.create` returns
None and grading goes on with the per-process rlimits (RLIMIT_NPROC then
counts processes), as the log says once.

Every cgroup is named ``autograder-<grader pid>-<n>``; one left behind by a
grader that was killed is emptied and removed by the next grader.
"""

from __future__ import annotations

import functools
import itertools
import os
import shlex
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from .sandbox import Limits
from .stale import owner_gone

CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "autograder-"
_serial = itertools.count()


def _v2() -> bool:
    return (CGROUP_ROOT / "cgroup.controllers").is_file()


def _parents() -> list[Path]:
    """Where our cgroups are made: one folder per hierarchy that holds a controller we use."""
    if _v2():
        return [CGROUP_ROOT / "autograder"]
    return [CGROUP_ROOT / c for c in ("memory", "pids") if (CGROUP_ROOT / c / "cgroup.procs").is_file()]


@dataclass(frozen=True)
class Cgroup:
    """The cgroup(s) of one kernel: one folder on v2, one per controller on v1."""

    dirs: tuple[Path, ...]

    @classmethod
    def create(cls, limits: Limits) -> "Cgroup | None":
        """A fresh cgroup with the memory and process limits set, or None where not permitted."""
        parents = _parents()
        if not parents:
            return None
        try:
            sweep_stale()
            name = f"{PREFIX}{os.getpid()}-{next(_serial)}"
            if _v2():
                parents[0].mkdir(exist_ok=True)
                (CGROUP_ROOT / "cgroup.subtree_control").write_text("+memory +pids")
                (parents[0] / "cgroup.subtree_control").write_text("+memory +pids")
            group = cls(tuple(parent / name for parent in parents))
            for folder in group.dirs:
                folder.mkdir()
            group._set_limits(limits)
            return group
        except OSError:
            return None

    def _set_limits(self, limits: Limits) -> None:
        settings = {  # file -> value; the file names say which layout they belong to
            "memory.max": limits.memory_bytes, "memory.swap.max": 0,  # v2
            "memory.limit_in_bytes": limits.memory_bytes,  # v1
            "pids.max": limits.processes,  # both
        }
        for folder in self.dirs:
            for name, value in settings.items():
                if (folder / name).exists():
                    (folder / name).write_text(str(value))

    def join_prefix(self) -> list[str]:
        """A command prefix that moves itself into this cgroup and then execs the rest.

        Joining before the exec means every process of the kernel, from the first,
        is counted; nothing can fork before the limits apply.
        """
        joins = " && ".join(f"echo $$ > {shlex.quote(str(d / 'cgroup.procs'))}" for d in self.dirs)
        return ["/bin/sh", "-c", f'{joins} && exec "$@"', "autograder-cgroup"]

    def oom_kills(self) -> int:
        """How many of the submission's processes the kernel killed for exceeding the memory limit."""
        for folder in self.dirs:
            for name in ("memory.events", "memory.oom_control"):  # v2, v1
                try:
                    for line in (folder / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill":
                            return int(value)
                except (OSError, ValueError):
                    continue
        return 0

    def pids(self) -> set[int]:
        """The processes still in the cgroup."""
        found: set[int] = set()
        for folder in self.dirs:
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                continue
        return found

    def kill(self) -> None:
        """Kill every process of the submission (idempotent)."""
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what is left and delete the cgroup."""
        self.kill()
        for folder in self.dirs:
            try:
                folder.rmdir()
            except OSError:
                pass


def sweep_stale() -> None:
    """Remove the cgroups of graders that are gone (killed mid-notebook, say)."""
    for parent in _parents():
        for folder in parent.glob(f"{PREFIX}*"):
            if owner_gone(folder.name, PREFIX):
                Cgroup((folder,)).remove()


def leftover_cgroups() -> list[Path]:
    """Every cgroup of ours that exists now (graders still running, or gone)."""
    return sorted(folder for parent in _parents() for folder in parent.glob(f"{PREFIX}*"))


@functools.lru_cache(maxsize=None)
def available() -> bool:
    """Whether this grader may create our cgroups (asked once per process)."""
    group = Cgroup.create(Limits(memory_bytes=2**30, cpu_seconds=1))
    if group is None:
        return False
    group.remove()
    return True
