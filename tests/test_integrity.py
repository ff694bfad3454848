"""Grading integrity: the catalogue of hostile submissions, graded end to end.

Every case in tests/hostile.py is a real notebook graded by the real
``nbgrader autograde`` (sandboxed kernel, real gradebook) in one run. Each
must get exactly the points it deserves, show a reason, and leave the run
(and the other students) intact.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.cli import grade, unfinished
from autograder.report import grade_rows
from autograder.sandbox import probe_bwrap
from hostile import AID, CATALOGUE, FULL, NB, TRICK, grade_catalogue, secrets, targets

CASES = {case.name: case for case in CATALOGUE}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    course = grade_catalogue(tmp_path_factory.mktemp("hostile"))
    return course, {row.student: row for row in grade_rows(course, AID)}


def evidence(course, row) -> str:
    """Everything the instructor and the student are shown: problems, verdicts, outputs."""
    parts = row.problems + row.failed
    autograded = course.root / "autograded" / row.student / AID / f"{NB}.ipynb"
    if autograded.exists():
        nb = nbformat.read(autograded, as_version=4)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                parts.append(out.get("text", "") + out.get("ename", "") + out.get("evalue", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_submission_gets_what_it_deserves_and_a_reason(catalogue, name):
    course, rows = catalogue
    case, row = CASES[name], rows[name]
    assert (row.score, row.max_score) == (case.score, FULL), row.problems + row.failed
    assert case.reason in evidence(course, row)


def test_honest_samples_are_unaffected_by_the_hostile_ones(catalogue):
    _, rows = catalogue
    assert [rows[s].score for s in ("sample-full", "sample-untouched")] == [FULL, 0]


@pytest.mark.skipif(probe_bwrap() is not None, reason=f"sandbox unavailable: {probe_bwrap()}")
@pytest.mark.parametrize("name, marker", [("read-course-files", "LEAKED"), ("write-outside", "WROTE"),
                                          ("network", "CONNECTED")])
def test_the_sandbox_blocks_files_and_network(catalogue, name, marker):
    course, rows = catalogue
    text = evidence(course, rows[name])
    assert marker not in text
    assert text.count("blocked") == {"read-course-files": len(secrets(course)),
                                     "write-outside": len(targets(course)), "network": 3}[name]
    for path in targets(course):  # the real files, seen from outside the jail
        assert not os.path.exists(path) or b"pwned" not in open(path, "rb").read()


def test_a_flood_is_capped(catalogue):
    course, _ = catalogue
    assert (course.root / "autograded" / "output-flood" / AID / f"{NB}.ipynb").stat().st_size < 2_000_000


def test_regrading_gives_the_same_scores(catalogue):
    course, rows = catalogue
    again = ["sample-full", "os-exit", "edited-test-cells", "warning-suppressed-wrong-answer"]
    for student in again:
        course.nbgrader("autograde", AID, "--force", f"--student={student}")
    regraded = {row.student: row for row in grade_rows(course, AID)}
    assert [regraded[s].score for s in again] == [rows[s].score for s in again]


def test_a_crash_mid_batch_loses_no_saved_grade(catalogue):
    """Kill nbgrader as soon as one student's grades are saved; `grade` then finishes the batch."""
    course, rows = catalogue
    students = ["os-exit", "sample-full", "sample-untouched"]  # nbgrader grades in this order
    with Gradebook(course.db_url, course.course_id) as gb:
        for student in students:
            gb.remove_submission(AID, student)
    for student in students:
        shutil.rmtree(course.root / "autograded" / student)
    proc = subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", AID, "--create",
                             f"--CourseDirectory.root={course.root}"], cwd=course.root,
                            env=dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    def saved() -> dict[str, float]:
        started = {p.parent.name for p in (course.root / "autograded").glob(f"*/{AID}")}
        done = started & set(students) - set(unfinished(course, AID))
        return {r.student: r.score for r in grade_rows(course, AID) if r.student in done}

    deadline = time.monotonic() + 120
    while not saved() and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = saved()
    assert kept and all(kept[s] == rows[s].score for s in kept), kept
    assert set(unfinished(course, AID)) < set(students), "the kill should leave the batch unfinished"

    grade(course, AID, force=False)  # what an instructor runs next: python -m autograder grade
    after = {row.student: row.score for row in grade_rows(course, AID)}
    assert unfinished(course, AID) == []
    assert {s: after[s] for s in students} == {s: rows[s].score for s in students}


@pytest.mark.parametrize("name", [c.name for c in CATALOGUE])
def test_the_trick_really_ran(catalogue, name):
    """A cheat that earns 0 only because it crashed would prove nothing."""
    course, _ = catalogue
    autograded = course.root / "autograded" / name / AID / f"{NB}.ipynb"
    if not autograded.exists():
        pytest.skip("handed in no gradable notebook (invalid JSON, wrong name)")
    nb = nbformat.read(autograded, as_version=4)
    tricks = [c for c in nb.cells if c.cell_type == "code" and TRICK in c.source]
    if not tricks:
        pytest.skip("a structural or file-level trick: no code of its own")
    errors = [o.ename for c in tricks for o in c.outputs if o.output_type == "error"]
    expected = CASES[name].trick_error
    assert (any(expected in e for e in errors) if expected else errors == []), errors
