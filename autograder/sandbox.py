"""The jail a submission's kernel runs in.

A student's notebook is arbitrary code. While it is graded it must see only
what the student's release folder holds (notebook, helpers.py, data), write
only to its own scratch folder, reach no network and stop within its limits.

We build that from two real tools:

* ``bwrap`` (bubblewrap): a fresh mount, PID, network, IPC and user namespace.
  The whole filesystem is mounted read-only, the folders that hold instructor
  material (the course root, /root, /home, /tmp) are covered by empty tmpfs
  mounts, and only the scratch folder, the probe folder and the kernel's
  socket folder are bound back in. Inside, the kernel runs as ``nobody``.
* ``prlimit`` (util-linux): address-space, CPU-time, file-size and
  open-file limits, applied to the jail and inherited by the kernel.

Where bwrap is missing or cannot create namespaces, :func:`probe_bwrap` says
so once and the kit grades with the rlimits only, logging a loud warning for
every notebook (never silently).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Environment variables the kernel is allowed to inherit. Everything else
#: (tokens, the grader's PATH entries, proxies) stays outside.
PASSTHROUGH_ENV = ("LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's kernel."""

    memory_bytes: int  # address space: a 10 GB array is a MemoryError
    cpu_seconds: int  # CPU time for the whole kernel
    file_bytes: int = 256 * 2**20  # largest file the kernel may write
    open_files: int = 256


@dataclass(frozen=True)
class Jail:
    """Where a kernel may read and write.

    hidden: folders covered by an empty tmpfs: the course root (solutions,
        gradebook, other students) and the kit (hidden tests).
    workdir: the autograded copy of this submission; the kernel's cwd, writable.
    runtime_dir: holds the connection file and IPC sockets, writable.
    probe_dir: hidden-test inputs (read-only) and outputs (writable) subfolders.
    readonly: extra host paths bound read-only at the same place
        (the Python environment, helpers.py, data/).
    """

    hidden: tuple[Path, ...]
    workdir: Path
    runtime_dir: Path
    probe_dir: Path
    readonly: tuple[Path, ...] = ()


@functools.lru_cache(maxsize=None)
def probe_bwrap() -> str | None:
    """Return None when bwrap can build our jail here, else the reason it cannot.

    Cached: asked once per grading process, not once per notebook.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    try:
        done = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
             "--unshare-all", "--uid", "65534", "--gid", "65534", "--die-with-parent",
             sys.executable, "-c", "import os; print(os.getuid())"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start: {exc}"
    if done.returncode != 0 or done.stdout.strip() != "65534":
        return f"bwrap cannot create namespaces here: {done.stderr.strip()[:200]}"
    return None


def kernel_env(jail: Jail, extra: dict[str, str]) -> dict[str, str]:
    """A minimal environment for the kernel: nothing of the grader's leaks in."""
    env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        HOME=str(jail.workdir),
        TMPDIR=str(jail.workdir),  # /tmp is an empty read-only tmpfs in the jail
        MPLBACKEND="Agg",
        MPLCONFIGDIR=str(jail.workdir / ".matplotlib"),
        IPYTHONDIR=str(jail.workdir / ".ipython"),
        # One BLAS thread: deterministic sums, and no oversubscription while
        # several notebooks are graded on a 2-core machine.
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def rlimit_prefix(limits: Limits) -> list[str]:
    """prlimit arguments that cap the process that follows them."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:  # util-linux is essential on Debian; keep going without it
        return []
    return [
        prlimit,
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
        "--",
    ]


def bwrap_prefix(jail: Jail) -> list[str]:
    """bwrap arguments that confine the command that follows them.

    Order matters: later mounts are laid over earlier ones, so we first hide
    whole trees and then bind back the few paths the kernel needs.
    """
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    hidden = {Path("/tmp"), Path("/root"), Path("/home"), Path("/var/tmp"), *jail.hidden}
    for path in sorted(hidden):
        if path.exists():
            args += ["--tmpfs", str(path)]
    for path in jail.readonly:
        args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(jail.workdir), str(jail.workdir)]
    args += ["--bind", str(jail.runtime_dir), str(jail.runtime_dir)]
    args += ["--ro-bind", str(jail.probe_dir), str(jail.probe_dir)]
    args += ["--bind", str(jail.probe_dir / "outputs"), str(jail.probe_dir / "outputs")]
    for path in sorted(hidden):  # the empty tmpfs covers read-only too: nothing to scribble on
        if path.exists():
            args += ["--remount-ro", str(path)]
    args += [
        "--unshare-all",  # new net (no network), pid, ipc, uts, cgroup, user namespaces
        "--uid", "65534", "--gid", "65534",  # run as nobody inside
        "--hostname", "grader",
        "--die-with-parent",  # the kernel goes when the grader goes
        # In the new PID namespace the kernel's parent is bwrap's init (pid 1),
        # which ipykernel's parent poller would take for a dead grader.
        "--unsetenv", "JPY_PARENT_PID",
        "--chdir", str(jail.workdir),
        "--",
    ]
    return args


def confine(cmd: list[str], jail: Jail, limits: Limits, sandboxed: bool) -> list[str]:
    """Wrap a kernel command line in the rlimits and, when available, the jail."""
    return rlimit_prefix(limits) + (bwrap_prefix(jail) if sandboxed else []) + cmd
