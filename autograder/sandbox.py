"""The jail a submission's kernel runs in.

A student's notebook is arbitrary code. While it is graded it must see only
what it needs (the Python it runs on, the course's data and helpers.py, its
own scratch copy), write only to that scratch copy, reach no network and stop
within its limits.

The jail is an allow-list. ``bwrap`` (bubblewrap) builds the kernel's root
filesystem from nothing: an empty read-only tmpfs into which only the paths
of :func:`system_paths` (the Python installation and the system libraries it
loads), the course's ``data/``, a synthetic ``/etc/passwd``, and the scratch
folders are bound. Every other host path, whatever its name (another checkout
of the course, nbgrader's exchange, a backup), is absent inside. Course
material that happens to lie *under* a bound tree (an exchange configured
below a library folder, say) is covered again by an empty tmpfs. bwrap also
gives the kernel fresh PID, network, IPC, UTS and user namespaces; inside, it
runs as ``nobody``.

``prlimit`` (util-linux) caps each process (address space, CPU time, file
size, open files); :mod:`autograder.cgroups` caps the submission as a whole
(memory of all its processes together, number of processes) where the grader
may create cgroups.

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
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Environment variables the kernel is allowed to inherit. Everything else
#: (tokens, the grader's PATH entries, proxies) stays outside.
PASSTHROUGH_ENV = ("LANG", "LC_ALL", "TZ")

#: The only accounts the kernel can look up (getpass, os.path.expanduser).
PASSWD = "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"

#: Top-level links of a merged-/usr system (/lib -> usr/lib), rebuilt inside when the host has them.
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's kernel.

    memory_bytes: address space of each process (a 10 GB array is a MemoryError), and the
        memory of all the submission's processes together where cgroups are available.
    cpu_seconds: CPU time of each process.
    file_bytes: largest file the kernel may write.
    processes: most processes (and threads) alive at once in the submission.
    """

    memory_bytes: int
    cpu_seconds: int
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    processes: int = 128


@dataclass(frozen=True)
class Jail:
    """What a kernel may read and write.

    workdir: the scratch copy of this submission; the kernel's cwd, writable.
    runtime_dir: holds the connection file and IPC sockets, writable.
    probe_dir: hidden-test inputs (read-only) and outputs (writable) subfolders.
    etc_dir: the synthetic /etc files (passwd, group), bound read-only.
    readonly: host paths bound read-only at the same place (Python, libraries, data/).
    covered: course material to keep absent even where it lies under a ``readonly`` path
        (the course root, the kit, nbgrader's exchange).
    """

    workdir: Path
    runtime_dir: Path
    probe_dir: Path
    etc_dir: Path
    readonly: tuple[Path, ...]
    covered: tuple[Path, ...] = ()

    def lay_out(self) -> None:
        """Create the folders and synthetic /etc files the jail binds (call once, before starting).

        The writable folders are open to all: inside, the kernel runs as nobody.
        """
        for folder in (self.workdir, self.runtime_dir, self.probe_dir / "inputs", self.probe_dir / "outputs"):
            folder.mkdir(parents=True, exist_ok=True)
        for writable in (self.workdir, self.runtime_dir, self.probe_dir / "outputs"):
            writable.chmod(0o777)
        self.etc_dir.mkdir(parents=True, exist_ok=True)
        (self.etc_dir / "passwd").write_text(PASSWD)
        (self.etc_dir / "group").write_text(GROUP)
        name, content = font_list()
        self.mpl_config_dir.mkdir()
        self.mpl_config_dir.chmod(0o777)  # matplotlib uses a config folder only if it may write there
        (self.mpl_config_dir / name).write_bytes(content)

    @property
    def mpl_config_dir(self) -> Path:
        """The kernel's MPLCONFIGDIR: fresh in every jail, so nothing one notebook writes reaches the next."""
        return self.workdir / ".matplotlib"

    def etc_files(self) -> dict[str, Path]:
        """/etc/<name> inside -> the host file bound there."""
        files = {name: self.etc_dir / name for name in ("passwd", "group")}
        if Path("/etc/ld.so.cache").is_file():  # lets the loader find libraries quickly
            files["ld.so.cache"] = Path("/etc/ld.so.cache")
        return files

    def top_level(self) -> set[str]:
        """The names ``/`` holds inside the jail: what the structural test compares with."""
        names = {"dev", "proc", "etc"}
        names |= {name for name in ROOT_LINKS if Path("/", name).is_symlink()}
        paths = [*self.readonly, self.workdir, self.runtime_dir, self.probe_dir]
        return names | {p.parts[1] for p in paths if len(p.parts) > 1}


def system_paths() -> tuple[Path, ...]:
    """The host paths the kernel's Python needs to run numpy and matplotlib, nothing more.

    The virtual environment (when there is one), the interpreter and its standard
    library, its shared libpython, and the system's multiarch library folder with the
    dynamic loader. Whole prefixes such as /usr or /usr/local are never bound: they
    hold /usr/local/share, where nbgrader keeps its exchange by default.
    """
    cfg = sysconfig.get_config_var
    base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
    paths = {*_link_chain(Path(sys.executable)), Path(base["stdlib"]), Path(base["platstdlib"])}
    if sys.prefix != sys.base_prefix:
        paths.add(Path(sys.prefix))
    if cfg("Py_ENABLE_SHARED") and cfg("LIBDIR"):
        paths |= set(Path(cfg("LIBDIR")).glob("libpython*.so*"))
    multiarch = cfg("MULTIARCH") or f"{os.uname().machine}-linux-gnu"
    paths |= {Path("/usr/lib", multiarch), Path("/lib", multiarch), Path("/usr/lib64"), Path("/lib64")}
    real = {_real_dir(p) for p in paths if p.exists()}
    return tuple(sorted(p for p in real if not any(p != q and p.is_relative_to(q) for q in real)))


def _link_chain(path: Path) -> list[Path]:
    """``path`` and every symlink it goes through to the real file (venv/bin/python3 -> ...)."""
    chain = [path]
    while chain[-1].is_symlink() and len(chain) < 40:
        chain.append(chain[-1].parent / os.readlink(chain[-1]))
    return [Path(os.path.normpath(p)) for p in chain]


def _real_dir(path: Path) -> Path:
    """A path with its top-level merged-/usr link resolved (/lib/x -> /usr/lib/x)."""
    parts = path.parts
    if len(parts) > 1 and parts[1] in ROOT_LINKS and Path("/", parts[1]).is_symlink():
        return Path("/", parts[1]).resolve().joinpath(*parts[2:])
    return path


@functools.lru_cache(maxsize=None)
def probe_bwrap() -> str | None:
    """Return None when bwrap can build our jail here, else the reason it cannot.

    Cached: asked once per grading process, not once per notebook.
    """
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    with tempfile.TemporaryDirectory(prefix="autograder-probe-") as tmp:
        jail = Jail(workdir=Path(tmp, "w"), runtime_dir=Path(tmp, "r"), probe_dir=Path(tmp, "p"),
                    etc_dir=Path(tmp, "etc"), readonly=system_paths())
        jail.lay_out()
        try:
            done = subprocess.run(bwrap_prefix(jail) + [sys.executable, "-c", "import os; print(os.getuid())"],
                                  capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap failed to start: {exc}"
    if done.returncode != 0 or done.stdout.strip() != "65534":
        return f"bwrap cannot create namespaces here: {done.stderr.strip()[:200]}"
    return None


@functools.cache
def font_list() -> tuple[str, bytes]:
    """matplotlib's font cache (file name, content), built once per grading process.

    Every kernel starts with an empty MPLCONFIGDIR; without the cache in it, importing pyplot
    scans the system's fonts again, 0.2 s of every graded notebook. The kernel runs the grader's
    Python and sees the same system paths, so the grader's list is the kernel's; a font missing
    inside the jail would only make matplotlib rebuild the list, as it does without one.
    """
    from matplotlib import font_manager  # here: only the grader's processes that lay out jails need it

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fontlist-v{font_manager.FontManager.__version__}.json"
        font_manager.json_dump(font_manager.fontManager, path)
        return path.name, path.read_bytes()


def kernel_env(jail: Jail, extra: dict[str, str]) -> dict[str, str]:
    """A minimal environment for the kernel: nothing of the grader's leaks in."""
    env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
    env.update(
        PATH=str(Path(sys.executable).parent),
        HOME=str(jail.workdir),
        TMPDIR=str(jail.workdir),  # there is no /tmp in the jail
        MPLBACKEND="Agg",
        MPLCONFIGDIR=str(jail.mpl_config_dir),
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


def rlimit_prefix(limits: Limits, count_processes: bool) -> list[str]:
    """prlimit arguments that cap each process of the command that follows them.

    count_processes: also set RLIMIT_NPROC. It counts the processes of the real user
        outside the jail and never binds root, so it is the fallback for graders that
        run unprivileged; as root the pids cgroup does this job.
    """
    prlimit = shutil.which("prlimit")
    if prlimit is None:  # util-linux is essential on Debian; keep going without it
        return []
    return [
        prlimit,
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        *([f"--nproc={limits.processes}"] if count_processes else []),
        "--core=0",
        "--",
    ]


def bwrap_prefix(jail: Jail) -> list[str]:
    """bwrap arguments that confine the command that follows them.

    Order matters: later mounts are laid over earlier ones, so the root is built
    first, course material under a bound tree is covered after the binds, and the
    root is made read-only last.
    """
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all",  # new net (no network), pid, ipc, uts, cgroup, user namespaces
            "--uid", "65534", "--gid", "65534",  # run as nobody inside
            "--hostname", "grader",
            "--die-with-parent",  # the kernel goes when the grader goes
            "--tmpfs", "/", "--dev", "/dev", "--proc", "/proc"]
    for name in ROOT_LINKS:
        link = Path("/", name)
        if link.is_symlink():
            args += ["--symlink", os.readlink(link), str(link)]
    for path in jail.readonly:
        args += ["--ro-bind", str(path), str(path)]
    for name, source in jail.etc_files().items():
        args += ["--ro-bind", str(source), f"/etc/{name}"]
    args += ["--bind", str(jail.workdir), str(jail.workdir)]
    args += ["--bind", str(jail.runtime_dir), str(jail.runtime_dir)]
    args += ["--ro-bind", str(jail.probe_dir), str(jail.probe_dir)]
    args += ["--bind", str(jail.probe_dir / "outputs"), str(jail.probe_dir / "outputs")]
    for path in sorted(set(jail.covered)):
        if path.exists() and any(path.is_relative_to(r) for r in jail.readonly):
            args += ["--tmpfs", str(path), "--remount-ro", str(path)]
    args += [
        "--remount-ro", "/",  # the root tmpfs: nothing to scribble on
        "--remount-ro", "/dev",  # nor /dev/shm: tmpfs pages escape RLIMIT_AS (device nodes still work)
        # In the new PID namespace the kernel's parent is bwrap's init (pid 1),
        # which ipykernel's parent poller would take for a dead grader.
        "--unsetenv", "JPY_PARENT_PID",
        "--chdir", str(jail.workdir),
        "--",
    ]
    return args
