"""Grading every submission of an assignment in parallel, on Dask distributed.

``python -m autograder grade <assignment> [--force] [--workers N] [--scheduler ADDRESS]``

Each Dask task (autograder/grading_task.py) is the real ``nbgrader autograde``
of a few students, in a private course of just them with a private gradebook,
on whichever worker is free; its kernels are sandboxed as always. A student
whose batch failed is graded again on their own, so one student's failure
never costs another their grades. This process is the only writer of the
course: as each task finishes it writes each student's autograded/ folder and
then their grades into the real gradebook (autograder/gradebook_sync.py), one
student at a time. So SQLite sees a single writer ("database is locked" cannot
happen), a server gradebook works alike, and every finished task is saved
before the next one is.

By default the cluster is a LocalCluster of one single-threaded worker process
per core, closed when grading ends; ``--scheduler`` uses a running Dask cluster
instead (see the README for what its workers need). Grading is the same
computation wherever it runs, so scores are identical to serial grading.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, TextIO

from distributed import Client, LocalCluster, as_completed
from nbgrader.utils import parse_utc

from .course import Course
from .gradebook_sync import assignment_seed, extension_of, record_ungraded, save_autogrades
from .grading_task import BatchOutcome, Graded, Handin, Kit, grade_batch, write_tree
from .progress import Progress
from .sandbox import probe_bwrap

MAX_BATCH = 10  # students per task at most
TASKS_PER_WORKER = 2  # tasks per worker at least, when there are enough students


@dataclass
class Summary:
    """Which students a grading run graded and which failed (their earlier results are kept)."""

    graded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def grade_parallel(course: Course, aid: str, force: bool = False, workers: int | None = None,
                   scheduler: str | None = None, out: TextIO | None = None,
                   batch_size: int | None = None) -> Summary:
    """Autograde the submissions of ``aid`` that need it, on Dask; see the module doc.

    force: regrade every submission (else, as nbgrader: those not autograded yet and
        those handed in again since). workers: LocalCluster size (default: one per core).
    scheduler: address of a running Dask scheduler (``tcp://host:8786``), instead of a LocalCluster.
    batch_size: students per task (default: :func:`batches` decides).
    """
    out = out or sys.stdout
    summary = Summary()
    students = to_grade(course, aid, force)
    if not students:
        print(f"nothing to grade for {aid}: every submission is autograded (--force regrades)", file=out)
        return summary
    db_url = course.db_url
    kit = make_kit(course, aid, db_url)
    handins = [make_handin(course, aid, student, db_url) for student in students]
    with dask_client(workers, scheduler) as client:
        names = check_workers(client)
        print(f"grading {len(handins)} submissions of {aid} on {len(names)} Dask workers", file=out)
        for name, reason in names.items():
            if reason:
                print(f"WARNING: worker {name} has no sandbox ({reason}): its notebooks are graded "
                      f"without isolation", file=out)
        progress = Progress(len(handins), out)
        shared = client.scatter(kit, broadcast=True, hash=False)
        tasks, batch_of = as_completed(), {}

        def submit(batch: list[Handin]) -> None:
            task = client.submit(grade_batch, shared, batch, pure=False)
            batch_of[task] = batch
            tasks.add(task)

        for batch in batches(handins, len(names), batch_size):
            submit(batch)
        for task in tasks:
            batch, outcome = batch_of.pop(task), _outcome(task, progress)
            for handin in batch:
                graded = outcome.graded.get(handin.student) if outcome else None
                if graded is not None:
                    _save(course, aid, handin, graded, db_url)
                    summary.graded.append(handin.student)
                    progress.finished(handin.student, True)
                elif len(batch) > 1:
                    submit([handin])  # again on its own, so that whatever failed is its own
                else:
                    progress.note(f"ERROR could not grade {handin.student} (see the lines above); "
                                  f"their earlier results, if any, are kept")
                    record_ungraded(db_url, course.course_id, aid, handin.student)
                    summary.failed.append(handin.student)
                    progress.finished(handin.student, False)
            task.release()
        progress.close()
    summary.graded.sort()
    summary.failed.sort()
    return summary


def batches(handins: list[Handin], workers: int, size: int | None = None) -> list[list[Handin]]:
    """The students of each task, ``size`` at a time; by default enough tasks for every worker
    to take several (so they finish together), at most MAX_BATCH students each (nbgrader's
    start-up is paid once per task; progress moves when a task ends)."""
    size = size or max(1, min(MAX_BATCH, len(handins) // (workers * TASKS_PER_WORKER)))
    return [handins[i:i + size] for i in range(0, len(handins), size)]


def _outcome(task, progress: Progress) -> BatchOutcome | None:
    """A finished task's outcome, its log lines shown; None (and why) if the task itself failed."""
    try:
        outcome: BatchOutcome = task.result()
    except Exception as exc:  # a worker without the kit, say: the students are retried, the others go on
        progress.note(f"ERROR a grading task failed: {type(exc).__name__}: {exc}")
        return None
    for line in outcome.log:
        progress.note(line)
    return outcome


def _save(course: Course, aid: str, handin: Handin, graded: Graded, db_url: str) -> None:
    """Write one student's results into the course: files first, grades second, so a run
    killed in between leaves a folder without grades, which the next run regrades (cli.unfinished)."""
    write_tree(course.root / "autograded" / handin.student / aid, graded.files)
    notebooks = {Path(rel).stem for rel in handin.files if Path(rel).suffix == ".ipynb" and "/" not in rel}
    save_autogrades(db_url, course.course_id, aid, handin.student, graded.timestamp, graded.notebooks, notebooks)


def to_grade(course: Course, aid: str, force: bool) -> list[str]:
    """Students whose submission of ``aid`` this run grades, sorted.

    With ``force`` every submission with a notebook; otherwise, as nbgrader
    autograde decides, those without an autograded folder and those whose
    submission's timestamp.txt is newer than the autograded one.
    """
    folders = sorted(p for p in (course.root / "submitted").glob(f"*/{aid}") if p.is_dir() and any(p.glob("*.ipynb")))
    return [folder.parent.name for folder in folders if force or _stale(course, aid, folder.parent.name)]


def _stale(course: Course, aid: str, student: str) -> bool:
    graded = course.root / "autograded" / student / aid
    if not graded.exists():
        return True
    new, old = (_timestamp(course.root / stage / student / aid) for stage in ("submitted", "autograded"))
    return new is not None and old is not None and new > old


def _timestamp(folder: Path):
    try:
        return parse_utc((folder / "timestamp.txt").read_text().strip())
    except (OSError, ValueError):  # none, or unreadable: nbgrader reports it when it grades
        return None


def make_kit(course: Course, aid: str, db_url: str) -> Kit:
    """The course's configuration, the release and the assignment's definition, for every task."""
    files = {"nbgrader_config.py": (course.root / "nbgrader_config.py").read_bytes()}
    files.update(_regular_files(course.root, course.release / aid))
    files.update({rel: content for rel, content in _regular_files(course.root, course.source / aid).items()
                  if not rel.endswith(".ipynb")})  # nbgrader copies the source's other files, never its notebooks
    return Kit(course.course_id, aid, files, assignment_seed(db_url, course.course_id, aid), str(course.root))


def make_handin(course: Course, aid: str, student: str, db_url: str) -> Handin:
    folder = course.root / "submitted" / student / aid
    return Handin(student, _regular_files(folder, folder), extension_of(db_url, course.course_id, aid, student))


def _regular_files(root: Path, folder: Path) -> dict[str, bytes]:
    """Path relative to ``root`` -> content, for the regular files under ``folder`` (links are skipped)."""
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


@contextmanager
def dask_client(workers: int | None, scheduler: str | None) -> Iterator[Client]:
    """A client of the running cluster at ``scheduler``, or of a LocalCluster closed on exit."""
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    # Single-threaded worker processes: grading is one nbgrader process per task. Memory is
    # capped per kernel by the sandbox, so Dask's own memory limit (on the worker) is off; its
    # log lines (a worker slow to exit, killed at close) are not the instructor's business.
    # Everything listens on loopback, the scheduler's web page on a free port (8787 may be taken).
    with LocalCluster(n_workers=workers or os.cpu_count(), threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0", memory_limit=0,
                      silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client


def check_workers(client: Client, timeout: float = 60) -> dict[str, str | None]:
    """Worker address -> why it cannot sandbox kernels (None: it can).

    Also proves that every worker can import the kit; SystemExit says what to fix if not.
    """
    try:
        client.wait_for_workers(1, timeout=timeout)
        return client.run(probe_bwrap)
    except Exception as exc:
        raise SystemExit(f"grade: no Dask worker can grade ({type(exc).__name__}: {exc}); is one connected, "
                         f"and does it import the kit (started with PYTHONPATH=<the kit's folder>)?") from None
