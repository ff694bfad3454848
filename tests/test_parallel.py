"""Parallel grading on Dask (autograder/parallel.py): the same grades as serial nbgrader, none lost.

One scratch course of 01_numpy is graded twice from the same hand-ins: by one
serial ``nbgrader autograde`` run and by the parallel grader on a LocalCluster
of two workers. Every cell's score, review flag and comment, and every
verdict report must agree. A scheduler and a worker started as separate
processes on loopback then grade part of it again, into a gradebook the
course's configuration names.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import psutil
import pytest
from nbgrader.api import Gradebook

from autograder import assignments
from autograder.cli import grade, unfinished
from autograder.course import Course
from autograder.grading_task import Handin
from autograder.report import grade_rows
from autograder.parallel import (MAX_BATCH, batches, default_batch_size, grade_assignments, grade_parallel,
                                 to_grade)
from autograder.progress import Progress
from autograder.submissions import (MISTAKES, apply_bugs, autograded_points, fill_release, solution_answers,
                                    write_class, write_samples, write_submission)
from conftest import ROOT, bug_rounds

AID = "01_numpy"
WORKERS = 2
BATCH = 3  # students per task: BROKEN shares one with two others
BROKEN = "broken-timestamp"  # nbgrader fails on an unreadable timestamp.txt: a grading that fails


def gradebook_rows(db_url: str, course: Course, student: str) -> dict:
    """(notebook, cell) -> (auto_score, needs_manual_grade) and (notebook, comment cell) -> auto_comment."""
    rows = {}
    with Gradebook(db_url, course.course_id) as gb:
        for nb in gb.find_submission(AID, student).notebooks:
            rows.update({(nb.name, g.name): (g.auto_score, g.needs_manual_grade) for g in nb.grades})
            rows.update({(nb.name, c.name, "comment"): c.auto_comment for c in nb.comments})
    return rows


def verdicts(course: Course, student: str) -> dict:
    """The verdict reports of a student's notebooks, without their timing."""
    reports = {}
    for path in sorted((course.root / "autograded" / student / AID).glob("*.grading.json")):
        data = json.loads(path.read_text())
        data.pop("seconds")
        reports[path.name] = data
    return reports


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    """(serial, parallel, students, log): the same hand-ins graded both ways."""
    tmp = tmp_path_factory.mktemp("parallel")
    course = Course.scratch(tmp / "parallel", [AID])
    write_samples(course, AID)
    answers = {nb: solution_answers(course, AID, nb) for nb in course.notebooks(AID)}
    for i, bugs in enumerate(bug_rounds(assignments.bug_bank(AID), {g: src for a in answers.values() for g, src in a.items()})[:2]):  # as conftest packs the bug bank
        write_submission(course, f"bugs-{i}", AID, {
            nb: fill_release(course, AID, nb, apply_bugs(answers[nb], [b for b in bugs if b.cell in answers[nb]]))
            for nb in answers})
    students = sorted(p.name for p in (course.root / "submitted").iterdir())
    shutil.copytree(course.root, tmp / "serial", symlinks=True)
    serial = Course(tmp / "serial")
    serial.nbgrader("autograde", AID, "--create")

    folder = write_submission(course, BROKEN, AID, {AID: fill_release(course, AID, AID, {})})
    (folder / "timestamp.txt").write_text("not a time\n")
    out = io.StringIO()
    summary = grade_parallel(course, AID, workers=WORKERS, out=out, batch_size=BATCH)
    return serial, course, students, summary, out.getvalue()


def test_parallel_grades_equal_serial_grades_cell_by_cell(courses):
    serial, parallel, students, summary, _ = courses
    assert summary.graded == students
    for student in students:
        assert gradebook_rows(parallel.db_url, parallel, student) == gradebook_rows(serial.db_url, serial, student)
        assert verdicts(parallel, student) == verdicts(serial, student) != {}
    full = gradebook_rows(parallel.db_url, parallel, "sample-full")
    untouched = gradebook_rows(parallel.db_url, parallel, "sample-untouched")
    assert full != untouched  # the comparison can tell submissions apart


def test_every_submission_has_its_rows_and_its_files(courses):
    serial, parallel, students, _, _ = courses
    with Gradebook(parallel.db_url, parallel.course_id) as gb:
        # the student nbgrader could not grade has a row too, as serial nbgrader leaves one: at 0, with a reason
        assert sorted(s.student.id for s in gb.assignment_submissions(AID)) == sorted([*students, BROKEN])
    (broken,) = [row for row in grade_rows(parallel, AID) if row.student == BROKEN]
    assert broken.score == 0 and broken.problems == ["not autograded (no grading report); run grade again and "
                                                     "read the log"]
    assert unfinished(parallel, AID) == []
    for student in students:
        names = sorted(p.name for p in (parallel.root / "autograded" / student / AID).iterdir())
        assert names == sorted(p.name for p in (serial.root / "autograded" / student / AID).iterdir())


def test_a_failed_grading_costs_no_one_else_their_grades_and_is_reported(courses):
    _, parallel, students, summary, log = courses
    assert summary.failed == [BROKEN]
    assert f"ERROR could not grade {BROKEN}" in log
    assert f"{len(students)} done, 1 failed, 0 remaining" in log
    assert not (parallel.root / "autograded" / BROKEN).exists()


def test_the_local_cluster_has_the_workers_asked_for(courses):
    *_, log = courses
    assert f"on {WORKERS} Dask workers" in log


def descendants(*words: str, besides: set[int] = frozenset()) -> list[str]:
    """Command lines of this process's descendants that contain any of ``words``, but those of ``besides``
    and their own descendants.

    (Other graders may run on the same machine: only ours count.)
    """
    kept = set(besides)
    for pid in besides:
        kept.update(p.pid for p in psutil.Process(pid).children(recursive=True))
    cmdlines = [" ".join(p.cmdline()) for p in psutil.Process().children(recursive=True) if p.pid not in kept]
    return [c for c in cmdlines if any(w in c for w in words)]


def test_nothing_outlives_grading(courses, dask_cluster):
    """The LocalCluster's worker processes are closed, no grading process, warm server or kernel is left.

    The workers of the fixtures' cluster (conftest.LocalDask), if this process started one, stay up by design."""
    assert descendants("spawn_main", "distributed", "dask", "nbgrader", "autograder.warm", "ipykernel_launcher", "bwrap",
                       besides=dask_cluster.worker_pids) == []


def test_a_rerun_grades_only_what_is_missing(courses, capsys):
    """Without --force: a student whose folder is gone and one whose grades are gone (a killed run)."""
    serial, parallel, _, _, _ = courses
    shutil.rmtree(parallel.root / "autograded" / "sample-partial")
    with Gradebook(parallel.db_url, parallel.course_id) as gb:
        gb.remove_submission(AID, "bugs-0")
    summary = grade(parallel, AID, force=False, workers=WORKERS)
    assert "regrading bugs-0" in capsys.readouterr().out
    assert summary.graded == ["bugs-0", "sample-partial"] and summary.failed == [BROKEN]
    for student in summary.graded:
        assert gradebook_rows(parallel.db_url, parallel, student) == gradebook_rows(serial.db_url, serial, student)


def test_which_submissions_a_run_grades(tmp_path):
    course = Course(tmp_path)
    for student in ("ada", "bob", "cy", "dee"):
        (course.root / "submitted" / student / AID).mkdir(parents=True)
        (course.root / "submitted" / student / AID / f"{AID}.ipynb").write_text("{}")
    (course.root / "submitted" / "dee" / AID / f"{AID}.ipynb").unlink()  # nothing to grade
    for student in ("bob", "cy"):
        (course.root / "autograded" / student / AID).mkdir(parents=True)
        (course.root / "autograded" / student / AID / "timestamp.txt").write_text("2026-01-01 10:00:00")
    (course.root / "submitted" / "cy" / AID / "timestamp.txt").write_text("2026-01-02 10:00:00")  # handed in again
    assert to_grade(course, AID, force=False) == ["ada", "cy"]
    assert to_grade(course, AID, force=True) == ["ada", "bob", "cy"]


def test_tasks_take_a_few_students_each():
    handins = [Handin(f"s{i}", {}) for i in range(100)]
    assert [len(b) for b in batches(handins, default_batch_size(100, 2))] == [MAX_BATCH] * (100 // MAX_BATCH)
    # as many tasks as a multiple of the workers: 12 of 8 or 9 on 3 workers, not 10 of 10
    assert sorted({len(b) for b in batches(handins, default_batch_size(100, 3))}) == [8, 9]
    assert len(batches(handins, default_batch_size(100, 3))) == 12
    assert default_batch_size(3, 2) == 1  # too few students to share a task
    assert default_batch_size(30, 2) == 8 and default_batch_size(6 * 30, 2) == MAX_BATCH  # the run's total counts
    assert len(batches(handins[:30], default_batch_size(30, 2))) == 4  # two tasks a worker at least
    assert [len(b) for b in batches(handins[:30], 7)] == [6] * 5  # even: no remainder task of 2
    assert [h.student for b in batches(handins[:7], 3) for h in b] == [f"s{i}" for i in range(7)]
    assert [len(b) for b in batches(handins[:7], 3)] == [2, 2, 3]


def test_progress_plain_lines_count_and_estimate():
    now = [0.0]
    out = io.StringIO()
    progress = Progress(4, out, live=False, clock=lambda: now[0])
    now[0] = 10.0
    progress.finished("ada", True)
    now[0] = 20.0
    progress.finished("bob", False)
    progress.note("a log line")
    now[0] = 30.0
    progress.finished("cy", True)
    progress.finished("dee", True)
    progress.close()
    assert out.getvalue().splitlines() == [
        "graded ada: 1 done, 0 failed, 3 remaining, ETA 30s",
        "FAILED bob: 1 done, 1 failed, 2 remaining, ETA 20s",
        "a log line",
        "graded cy: 2 done, 1 failed, 1 remaining, ETA 10s",
        "graded dee: 3 done, 1 failed, 0 remaining",
        "3 done, 1 failed, 0 remaining in 30s"]


def test_progress_on_a_terminal_is_one_line_rewritten_with_log_lines_above():
    now = [0.0]
    out = io.StringIO()
    progress = Progress(100, out, live=True, clock=lambda: now[0])
    now[0] = 90.0
    progress.finished("ada", True)
    progress.note("SANDBOX UNAVAILABLE")
    progress.close()
    text = out.getvalue()
    assert "\n" not in text.split("SANDBOX UNAVAILABLE")[0]  # nothing scrolled before the log line
    screens = text.split("\r\x1b[K")
    assert "grading: 1 done, 0 failed, 99 remaining, ETA 148m30s" in screens
    assert screens[-1] == "1 done, 0 failed, 99 remaining, ETA 148m30s in 1m30s\n"


# ---------------------------------------------------------------- a cluster started on its own

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    """A Dask scheduler and one worker, each its own process (the `dask` CLI), on loopback."""
    port = _free_port()
    dask = str(Path(sys.executable).parent / "dask")
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # what a worker needs to import the kit
    logs = [open(tmp_path / f"{name}.log", "w") for name in ("scheduler", "worker")]
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=logs[0], stderr=subprocess.STDOUT, env=env)]
    address = f"tcp://127.0.0.1:{port}"
    procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--nworkers", "1",
                                   "--no-dashboard", "--host", "127.0.0.1"],
                                  stdout=logs[1], stderr=subprocess.STDOUT, env=env, cwd=tmp_path))
    yield address
    for proc in reversed(procs):
        proc.terminate()
        proc.wait(timeout=30)
    for log in logs:
        log.close()


def test_a_separately_started_scheduler_and_worker_grade_into_the_configured_gradebook(courses, cluster, tmp_path):
    serial, parallel, _, _, _ = courses
    address = cluster
    shutil.copytree(serial.root, tmp_path / "course", symlinks=True)
    course = Course(tmp_path / "course")
    elsewhere = tmp_path / "server.db"  # stands for a server database: not the course's gradebook.db
    shutil.move(course.root / "gradebook.db", elsewhere)
    with Gradebook(f"sqlite:///{elsewhere}", course.course_id) as gb:  # keep the assignment, drop the grades
        for student in os.listdir(course.root / "submitted"):
            gb.remove_submission(AID, student)
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.CourseDirectory.db_url = 'sqlite:///{elsewhere}'\n")
    shutil.rmtree(course.root / "autograded")
    students = ["sample-full", "sample-untouched"]
    for student in set(os.listdir(course.root / "submitted")) - set(students):
        shutil.rmtree(course.root / "submitted" / student)

    out = io.StringIO()
    summary = grade_parallel(course, AID, scheduler=address, out=out)
    assert summary.graded == students, out.getvalue()
    assert "on 1 Dask workers" in out.getvalue()
    for student in students:
        assert gradebook_rows(f"sqlite:///{elsewhere}", course, student) == \
            gradebook_rows(serial.db_url, serial, student)
        assert verdicts(course, student) == verdicts(serial, student)
    assert not (course.root / "gradebook.db").exists()
    assert descendants("nbgrader", "ipykernel_launcher", "bwrap") == []  # the worker is still up; its grading is not
    servers = [p for p in psutil.Process().children(recursive=True) if "autograder.warm" in " ".join(p.cmdline())]
    assert servers and all(not s.children() for s in servers)  # it keeps its warm server, idle: no run left
    assert len(descendants("dask scheduler", "dask worker")) >= 2


def test_one_run_grades_several_assignments_and_says_when_each_is_saved(tmp_path, dask_cluster):
    """grade_assignments (the demo's run): each assignment's summary, and its when_done called once,
    when every one of its submissions already has its grades in the gradebook."""
    aids = ["01_numpy", "02_activations"]
    course = Course.scratch(tmp_path / "two", aids)
    for aid in aids:
        write_samples(course, aid)
    seen = {}

    def when_done(aid, summary):
        seen[aid] = seen.get(aid, 0) + 1
        assert summary.graded == ["sample-full", "sample-partial", "sample-untouched"]
        scores = {r.student: (r.score, r.max_score) for r in grade_rows(course, aid)}
        possible = autograded_points(course, aid, aid)
        assert scores["sample-full"] == (possible, possible) and scores["sample-untouched"] == (0, possible)
        assert 0 < scores["sample-partial"][0] < possible

    out = io.StringIO()
    summaries = grade_assignments(course, aids, force=True, scheduler=dask_cluster.address, out=out,
                                  when_done=when_done)
    assert seen == {aid: 1 for aid in aids}
    assert all(s.failed == [] for s in summaries.values())
    assert "grading 6 submissions of 01_numpy (3), 02_activations (3)" in out.getvalue()
    assert "sample-full (02_activations)" in out.getvalue()  # progress lines name the assignment


def test_the_demo_class_is_the_samples_and_seeded_students_with_a_few_bank_mistakes_each(tmp_path):
    course = Course.scratch(tmp_path / "class", [AID])
    students = write_class(course, AID, size=12)
    assert students[:3] == ["sample-full", "sample-untouched", "sample-partial"] and len(set(students)) == 12
    assert sorted(p.name for p in (course.root / "submitted").iterdir()) == sorted(students)
    solution = solution_answers(course, AID, AID)
    bank = {(b.cell, apply_bugs(solution, [b])[b.cell]): b.name for b in assignments.bug_bank(AID)}
    made = {}
    for student in students[3:]:
        nb = nbformat.read(course.root / "submitted" / student / AID / f"{AID}.ipynb", as_version=4)
        answers = {c.metadata.nbgrader["grade_id"]: c.source for c in nb.cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        changed = {gid: source for gid, source in answers.items() if source != solution[gid]}
        assert len(changed) <= max(MISTAKES)
        made[student] = sorted(bank[cell, source] for cell, source in changed.items())  # KeyError: not a bank mistake
    assert len({tuple(m) for m in made.values()}) > 3  # varied, not one mistake for all
    again = Course.scratch(tmp_path / "again", [AID])
    write_class(again, AID, size=12)
    for student in students:  # seeded: the same class every time
        assert ((again.root / "submitted" / student / AID / f"{AID}.ipynb").read_bytes()
                == (course.root / "submitted" / student / AID / f"{AID}.ipynb").read_bytes())
