"""The course directory and the nbgrader commands run in it.

The repository itself is an nbgrader course directory (see
nbgrader_config.py): ``solutions/`` is nbgrader's source, ``notebooks/`` its
release, and ``submitted/ -> autograded/ -> feedback/`` plus
``gradebook.db`` are created beside them while grading (git ignores them).

Tests and benchmarks grade in a *scratch* course (:meth:`Course.scratch`), a
throwaway copy of the solutions and release, so they never touch the
instructor's gradebook.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from traitlets.config.loader import PyFileConfigLoader

KIT_ROOT = Path(__file__).resolve().parent.parent
SHARED_FILES = ("helpers.py",)  # linked into every released assignment folder
PR_SET_PDEATHSIG = 1  # prctl(2)


@dataclass(frozen=True)
class Course:
    root: Path
    course_id = "dl-fundamentals"  # nbgrader_config.py reads it from here
    #: Where scratch courses keep a pristine copy of each one generated, for the next scratch course of
    #: the same assignments to copy (the test suite sets it once per session, in which the solutions do
    #: not change). None: every scratch course runs nbgrader generate_assignment itself (7 s each).
    scratch_cache: ClassVar[Path | None] = None

    @property
    def source(self) -> Path:
        return self.root / "solutions"

    @property
    def release(self) -> Path:
        return self.root / "notebooks"

    @property
    def db_url(self) -> str:
        """The gradebook nbgrader uses: ``c.CourseDirectory.db_url`` of the course's nbgrader_config.py
        (a server database, say), else the course's gradebook.db."""
        default = f"sqlite:///{self.root / 'gradebook.db'}"
        if not (self.root / "nbgrader_config.py").is_file():
            return default
        saved = list(sys.path)  # the course's configuration puts its folder on sys.path
        try:
            config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        finally:
            sys.path[:] = saved
        return config.CourseDirectory.get("db_url") or default

    def assignments(self) -> list[str]:
        """Assignment ids: the folders of solutions/ that hold notebooks."""
        return sorted(p.name for p in self.source.iterdir() if any(p.glob("*.ipynb")))

    def notebooks(self, assignment: str) -> list[str]:
        """Notebook names (without .ipynb) of an assignment."""
        return sorted(p.stem for p in (self.source / assignment).glob("*.ipynb"))

    def source_notebook(self, assignment: str, notebook: str) -> Path:
        return self.source / assignment / f"{notebook}.ipynb"

    def release_notebook(self, assignment: str, notebook: str) -> Path:
        return self.release / assignment / f"{notebook}.ipynb"

    def nbgrader(self, *args: str, check: bool = True, timeout: float = 3600) -> subprocess.CompletedProcess:
        """Run ``nbgrader ARGS`` in this course, as an instructor would from its root."""
        cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={self.root}"]
        done = subprocess.run(cmd, cwd=self.root, env=nbgrader_env(), capture_output=True, text=True, timeout=timeout,
                              preexec_fn=die_with_parent)
        if check and done.returncode != 0:
            raise RuntimeError(f"nbgrader {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return done

    @classmethod
    def scratch(cls, dest: Path, assignments: list[str] | None = None) -> "Course":
        """A throwaway course at ``dest``: this kit's solutions, released afresh by nbgrader (or copied
        from ``scratch_cache``, where the same assignments were released before).

        assignments: restrict to these ids (default: all).
        """
        ids = list(assignments or cls(KIT_ROOT).assignments())
        if cls.scratch_cache is None:
            return cls._generated(dest, ids)
        template = cls.scratch_cache / "+".join(ids)
        with open(f"{template}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be generating the same course
            if not template.exists():
                partial = template.with_name(f"{template.name}.partial")
                shutil.rmtree(partial, ignore_errors=True)
                cls._generated(partial, ids).root.rename(template)  # no absolute path is kept inside
        shutil.copytree(template, dest, symlinks=True, dirs_exist_ok=True)
        return cls(dest)

    @classmethod
    def _generated(cls, dest: Path, assignments: list[str]) -> "Course":
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(KIT_ROOT / "nbgrader_config.py", dest)
        for name in (*SHARED_FILES, "data", "autograder"):  # nbgrader_config.py imports autograder
            (dest / name).symlink_to(KIT_ROOT / name)
        course = cls(dest)
        for assignment in assignments:
            shutil.copytree(KIT_ROOT / "solutions" / assignment, course.source / assignment, symlinks=True)
            course.nbgrader("generate_assignment", assignment, "--force")
        return course


def nbgrader_env() -> dict[str, str]:
    """The environment nbgrader runs in: this one, with the venv's commands and the kit importable."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)  # nbgrader calls `alembic` by name
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(KIT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def die_with_parent() -> None:
    """In the child, before nbgrader starts: SIGKILL it when the process that started it dies
    (a Dask worker killed mid-batch leaves no nbgrader grading on)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def link_shared_files(assignment: str, student: str, notebooks: list[str]) -> None:
    """nbgrader post-convert hook for generate_assignment.

    Links helpers.py into the released assignment folder, so the notebook
    imports the one shared copy (relative link: it survives moving the repo).
    notebooks: the source notebook paths nbgrader just converted, solutions/<assignment>/*.ipynb;
    they name the assignment, as ``assignment`` does not when a run releases several ("*").
    """
    if not notebooks:
        return
    root = Path(notebooks[0]).resolve().parent.parent.parent
    folder = root / "notebooks" / Path(notebooks[0]).parent.name
    for name in SHARED_FILES:
        link = folder / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path("..") / ".." / name)
