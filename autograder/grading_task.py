"""A batch of students' autograding, as a Dask task: what runs on a worker.

The worker needs the kit (this package with its hidden tests, helpers.py,
data/, the pinned venv) and bubblewrap, nothing of the course's state: the
client sends the assignment's :class:`Kit` (the course's nbgrader_config.py,
the release and a gradebook seeded with the assignment's definition) and the
students' :class:`Handin` s. The task lays out a course of just those students
in a private scratch folder, runs the real ``nbgrader autograde`` there once
(the same sandboxed pipeline, a kernel per notebook; a fork of the worker's
warm server, autograder/warm.py, so nbgrader's imports are paid once per
worker) against that private gradebook, and returns a
:class:`BatchOutcome`: each graded student's autograded files and the grades
nbgrader saved. It writes nothing outside its scratch folder, so any number
of tasks can run at once, on any machine.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from . import warm
from .course import KIT_ROOT, SHARED_FILES, Course
from .execute import SCRATCH_PREFIX
from .gradebook_sync import NotebookGrades, grant_extension, read_autogrades

LOG_MARKERS = ("[autograder]", "SANDBOX", "ERROR")  # the nbgrader log lines `grade` shows


@dataclass(frozen=True)
class Kit:
    """What every task of one assignment needs from the course.

    files: path relative to the course root -> content (nbgrader_config.py,
        notebooks/<assignment>/..., the non-notebook files of solutions/<assignment>/).
    gradebook: a SQLite gradebook with the assignment's definition (gradebook_sync.assignment_seed).
    """

    course_id: str
    assignment: str
    files: dict[str, bytes]
    gradebook: bytes
    course_root: str  # the real course on the grading machine: kept out of the jail as well


@dataclass(frozen=True)
class Handin:
    """One student's submission: path relative to submitted/<student>/<assignment>/ -> content.

    extension: the extension the real gradebook grants them (late penalties depend on it).
    """

    student: str
    files: dict[str, bytes]
    extension: timedelta | None = None


@dataclass(frozen=True)
class Graded:
    """One student's autograding: files relative to autograded/<student>/<assignment>/ ->
    (content, mode), and the grades nbgrader saved, per notebook."""

    files: dict[str, tuple[bytes, int]]
    timestamp: datetime | None
    notebooks: dict[str, NotebookGrades]


@dataclass(frozen=True)
class BatchOutcome:
    """returncode: nbgrader's exit status (0: every student graded). log: its lines worth showing
    (LOG_MARKERS). graded: the students it graded completely; the others failed."""

    returncode: int
    log: list[str]
    graded: dict[str, Graded]


def grade_batch(kit: Kit, handins: list[Handin]) -> BatchOutcome:
    """Autograde ``handins`` with one nbgrader run in a private course; see the module doc."""
    # Named like the sandbox's scratch folders (<prefix><pid>-): if this worker is
    # killed, the next grader's sweep removes it.
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-course-") as tmp:
        course = _lay_out(Path(tmp), kit, handins)
        db_url = f"sqlite:///{course.root / 'gradebook.db'}"
        for handin in handins:
            if handin.extension is not None:
                grant_extension(db_url, kit.course_id, kit.assignment, handin.student, handin.extension)
        # --force: this private course has graded no one yet; db_url on the command line
        # wins over any gradebook the course's configuration names.
        done = warm.nbgrader(course.root, "autograde", kit.assignment, "--force", f"--CourseDirectory.db_url={db_url}")
        graded = {}
        for handin in handins:
            folder = course.root / "autograded" / handin.student / kit.assignment
            saved = read_autogrades(db_url, kit.course_id, kit.assignment, handin.student) if folder.is_dir() else None
            if saved is not None:  # nbgrader removes the folder of a student it failed to grade
                graded[handin.student] = Graded(_read_tree(folder), *saved)
        log = [line for line in done.stderr.splitlines() if any(m in line for m in LOG_MARKERS)]
        return BatchOutcome(done.returncode, log, graded)


def _lay_out(root: Path, kit: Kit, handins: list[Handin]) -> Course:
    """A course at ``root``: the kit's shared files linked as Course.scratch does, the rest written."""
    for name in (*SHARED_FILES, "data", "autograder"):  # nbgrader_config.py imports autograder
        (root / name).symlink_to(KIT_ROOT / name)
    (root / "gradebook.db").write_bytes(kit.gradebook)
    files = dict(kit.files)
    files["nbgrader_config.py"] += (f"\n# graded from a private copy: the real course stays out of the jail too\n"
                                    f"c.SandboxedExecute.hidden_paths = [{kit.course_root!r}]\n").encode()
    for handin in handins:
        files.update({str(Path("submitted") / handin.student / kit.assignment / rel): content
                      for rel, content in handin.files.items()})
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return Course(root)


def _read_tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every regular file under ``folder`` (relative path -> content, permission bits)."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mode & 0o777)
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def write_tree(folder: Path, files: dict[str, tuple[bytes, int]]) -> None:
    """Replace ``folder`` with ``files`` (as :func:`_read_tree` returned them)."""
    if folder.exists():
        shutil.rmtree(folder)
    for rel, (content, mode) in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
