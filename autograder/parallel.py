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

By default the cluster is a LocalCluster of single-threaded worker processes,
one per core and one more (:func:`default_workers`), closed when grading ends;
``--scheduler`` uses a running Dask cluster instead (see the README for what its
workers need). Grading is the same computation wherever it runs, so scores are
identical to serial grading. :func:`grade_assignments` grades several
assignments in one run (the demo does), keeping every worker busy throughout.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, TextIO

from distributed import Client, LocalCluster, as_completed
from nbgrader.utils import parse_utc

from . import warm
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
        those handed in again since). workers: LocalCluster size (default: :func:`default_workers`).
    scheduler: address of a running Dask scheduler (``tcp://host:8786``), instead of a LocalCluster.
    batch_size: students per task (default: :func:`default_batch_size`).
    """
    return grade_assignments(course, [aid], force, workers, scheduler, out, batch_size)[aid]


def grade_assignments(course: Course, aids: list[str], force: bool = False, workers: int | None = None,
                      scheduler: str | None = None, out: TextIO | None = None, batch_size: int | None = None,
                      when_done: Callable[[str, Summary], None] | None = None) -> dict[str, Summary]:
    """:func:`grade_parallel` for several assignments in one run: assignment id -> its Summary.

    Every assignment's tasks are submitted at once, in order, so no worker waits for the last
    task of one assignment before it starts on the next. ``when_done(aid, summary)`` is called
    in this process as soon as the last submission of ``aid`` is saved or given up (the demo
    starts writing that assignment's feedback then, while the workers grade the next).
    """
    out = out or sys.stdout
    summaries = {aid: Summary() for aid in aids}
    db_url = course.db_url
    handins = {aid: [make_handin(course, aid, student, db_url) for student in to_grade(course, aid, force)]
               for aid in aids}
    for aid in [aid for aid in aids if not handins[aid]]:
        print(f"nothing to grade for {aid}: every submission is autograded (--force regrades)", file=out)
        if when_done:
            when_done(aid, summaries[aid])
    aids = [aid for aid in aids if handins[aid]]
    if not aids:
        return summaries
    with dask_client(workers, scheduler) as client:
        names = check_workers(client)
        total = sum(len(handins[aid]) for aid in aids)
        what = aids[0] if len(aids) == 1 else ", ".join(f"{aid} ({len(handins[aid])})" for aid in aids)
        print(f"grading {total} submissions of {what} on {len(names)} Dask workers", file=out)
        for name, reason in names.items():
            if reason:
                print(f"WARNING: worker {name} has no sandbox ({reason}): its notebooks are graded "
                      f"without isolation", file=out)
        progress = Progress(total, out)
        kits = {aid: client.scatter(make_kit(course, aid, db_url), broadcast=True, hash=False) for aid in aids}
        left = {aid: len(handins[aid]) for aid in aids}  # submissions neither saved nor given up yet
        tasks, batch_of = as_completed(), {}

        def submit(aid: str, batch: list[Handin], retry: bool = False) -> None:
            # Dask runs the higher priority first: assignments in order, a retry before them all
            priority = len(aids) if retry else len(aids) - 1 - aids.index(aid)
            task = client.submit(grade_batch, kits[aid], batch, pure=False, priority=priority)
            batch_of[task] = aid, batch
            tasks.add(task)

        size = batch_size or default_batch_size(total, len(names))
        for aid in aids:
            for batch in batches(handins[aid], size):
                submit(aid, batch)
        for task in tasks:
            (aid, batch), outcome = batch_of.pop(task), _outcome(task, progress)
            summary = summaries[aid]
            for handin in batch:
                name = handin.student if len(aids) == 1 else f"{handin.student} ({aid})"
                graded = outcome.graded.get(handin.student) if outcome else None
                if graded is None and len(batch) > 1:
                    submit(aid, [handin], retry=True)  # on its own, so that whatever failed is its own
                    continue
                if graded is not None:
                    _save(course, aid, handin, graded, db_url)
                    summary.graded.append(handin.student)
                else:
                    progress.note(f"ERROR could not grade {name} (see the lines above); "
                                  f"their earlier results, if any, are kept")
                    record_ungraded(db_url, course.course_id, aid, handin.student)
                    summary.failed.append(handin.student)
                progress.finished(name, graded is not None)
                left[aid] -= 1
            task.release()
            if left[aid] == 0:
                summary.graded.sort()
                summary.failed.sort()
                if when_done:
                    when_done(aid, summary)
        progress.close()
    return summaries


def default_batch_size(total: int, workers: int) -> int:
    """Students per task by default, for a run of ``total`` submissions (of every assignment it grades).

    At most MAX_BATCH students a task (nbgrader's start-up is paid once per task, and progress
    moves when a task ends), at least TASKS_PER_WORKER tasks a worker, and as many tasks as a
    multiple of the workers, so that no worker grades a last task alone while the others idle
    (100 students on 3 workers: 12 tasks of 9, not 10 of 10).
    """
    tasks = max(-(-total // MAX_BATCH), workers * TASKS_PER_WORKER)
    tasks = -(-tasks // workers) * workers
    return max(1, -(-total // tasks))


def batches(handins: list[Handin], size: int) -> list[list[Handin]]:
    """``handins`` in order, in as few tasks as hold at most ``size`` each, evenly (sizes differ by one
    at most, so no worker is left with a small remainder while another takes a full task)."""
    n = -(-len(handins) // size)
    return [handins[i * len(handins) // n:(i + 1) * len(handins) // n] for i in range(n)]


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


def default_workers() -> int:
    """One worker per core, and one more: each worker's core idles while a kernel starts and while
    nbgrader saves, so one per core leaves the cores a quarter idle. Measured on 2 cores, the
    demo's 180 notebooks: 2 workers kept them 77 % busy (177 s), 3 workers 92 % (157 s)."""
    return (os.cpu_count() or 1) + 1


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
    with LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0", memory_limit=0,
                      silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        try:
            yield client
        finally:  # a worker of another cluster (--scheduler) keeps its servers warm for the next run
            client.run(warm.stop)


def check_workers(client: Client, timeout: float = 60) -> dict[str, str | None]:
    """Worker address -> why it cannot sandbox kernels (None: it can).

    Also proves that every worker can import the kit; SystemExit says what to fix if not.
    """
    try:
        client.wait_for_workers(1, timeout=timeout)
        client.run(warm.start)  # its imports run while the client sends the kits
        return client.run(probe_bwrap)
    except Exception as exc:
        raise SystemExit(f"grade: no Dask worker can grade ({type(exc).__name__}: {exc}); is one connected, "
                         f"and does it import the kit (started with PYTHONPATH=<the kit's folder>)?") from None
