"""Grading integrity: the catalogue of hostile submissions, graded end to end.

Every case in tests/hostile.py is a real notebook graded by the real
``nbgrader autograde`` (sandboxed kernel, real gradebook) in one run. Each
must get exactly the points it deserves, show a reason, and leave the run
(and the other students) intact.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.cli import grade, unfinished
from autograder.report import grade_rows
from autograder.cgroups import available as cgroups_available, leftover_cgroups
from autograder.execute import SCRATCH_PREFIX, SandboxedExecute
from autograder.sandbox import probe_bwrap
from autograder.stale import owner_gone
from hostile import AID, CATALOGUE, FULL, NB, SURVIVOR, TRICK, expected_jail, grade_catalogue, secrets, targets
from hostile import PNG_1PX, xss_token  # noqa: E402  (issue 8: outputs and pages)
from pages import ALLOWED_MIME, readable, rendered_pages, unsafe_places  # noqa: E402

CASES = {case.name: case for case in CATALOGUE}
NEEDS_CGROUPS = {"fork-bomb", "memory-in-children"}  # limits on the submission as a whole


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
    if name in NEEDS_CGROUPS and not cgroups_available():
        pytest.skip("this grader may not create cgroups: limits apply per process only")
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
    others = sorted(set(rows) - set(again))  # one nbgrader run for the four: each start costs seconds
    course.nbgrader("autograde", AID, "--force", f"--CourseDirectory.student_id_exclude={','.join(others)}")
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


# ---------------------------------------------------------------- the jail (issue 8)

def _trick_output(course, name: str) -> str:
    nb = nbformat.read(course.root / "autograded" / name / AID / f"{NB}.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" and TRICK in c.source
                   for o in c.outputs)


@pytest.mark.skipif(probe_bwrap() is not None, reason=f"sandbox unavailable: {probe_bwrap()}")
def test_walking_the_whole_filesystem_finds_no_course_material(catalogue):
    """Another checkout of the course and a classmate's hand-in were planted outside the course
    (tests/hostile.py: PLANTED; test_jail proves the same walk finds them from outside the jail)."""
    course, _ = catalogue
    out = _trick_output(course, "walk-the-filesystem")
    assert "searched; found 0" in out and "FOUND" not in out, out


@pytest.mark.skipif(probe_bwrap() is not None, reason=f"sandbox unavailable: {probe_bwrap()}")
def test_the_kernel_sees_only_the_allow_list_at_the_root(catalogue):
    course, _ = catalogue
    out = _trick_output(course, "list-the-root")
    root = out.split("ROOT ")[1].splitlines()[0]
    etc = out.split("ETC ")[1].splitlines()[0]
    assert set(ast.literal_eval(root)) == expected_jail().top_level()
    assert set(ast.literal_eval(etc)) == set(expected_jail().etc_files())


@pytest.mark.skipif(not cgroups_available(), reason="this grader may not create cgroups")
def test_a_fork_bomb_is_stopped_by_the_process_limit(catalogue):
    course, _ = catalogue
    children = int(_trick_output(course, "fork-bomb").split("fork refused after ")[1].split()[0])
    assert 0 < children < SandboxedExecute.max_processes.default_value


def test_message_floods_are_capped(catalogue):
    course, _ = catalogue
    assert (course.root / "autograded" / "message-flood" / AID / f"{NB}.ipynb").stat().st_size < 2_000_000


def test_nothing_of_a_submission_outlives_its_grading(catalogue):
    """No process (the detached survivor, a kernel), no cgroup and no scratch folder is left."""
    survivors = [p for p in Path("/proc").glob("[0-9]*/cmdline") if _outlived_its_grader(_read(p))]
    assert survivors == []
    assert [c for c in leftover_cgroups() if owner_gone(c.name, "autograder-")] == []
    scratch = [d for d in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*")
               if owner_gone(d.name, SCRATCH_PREFIX)]
    assert scratch == []


def _outlived_its_grader(cmdline: bytes) -> bool:
    """The survivor, or a kernel whose grading process has ended (kernels of graders still at work,
    in the suite's other workers, name a live owner in their scratch path)."""
    if SURVIVOR.encode() in cmdline:
        return True
    owners = re.findall(rb"/" + SCRATCH_PREFIX.encode() + rb"(\d+)-", cmdline)
    return b"ipykernel_launcher" in cmdline and any(owner_gone(f"{SCRATCH_PREFIX}{int(o)}-", SCRATCH_PREFIX)
                                                    for o in owners)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


# ---- outputs, feedback and the instructor's pages (issue 8)
XSS = [case.name for case in CATALOGUE if case.name.startswith("xss-")]


@pytest.fixture(scope="module")
def pages(catalogue):
    """student -> {"feedback": html, "formgrader": html} for the xss-* cases and sample-full."""
    course, _ = catalogue
    for students in ("xss-*", "sample-full"):
        course.nbgrader("generate_feedback", AID, "--force", f"--student={students}")
    return {student: rendered_pages(course, student, AID, NB) for student in XSS + ["sample-full"]}


@pytest.mark.parametrize("name", XSS)
def test_no_student_script_reaches_the_feedback_or_the_formgrader(catalogue, pages, name):
    _, rows = catalogue
    for page, html in pages[name].items():
        places, text = unsafe_places(html, xss_token(name))
        assert places == [], page
        assert f"alert('{xss_token(name)}')" in text, page  # the payload did reach the page, as text
        assert all(problem in text for problem in rows[name].problems), page  # notes verbatim


def test_autograded_notebooks_hold_only_allow_listed_outputs(catalogue):
    course, _ = catalogue
    for path in sorted((course.root / "autograded").glob(f"*/{AID}/{NB}.ipynb")):
        outputs = [o for c in nbformat.read(path, as_version=4).cells for o in c.get("outputs", [])]
        assert {o.output_type for o in outputs} <= {"stream", "error", "display_data", "execute_result"}, path
        assert {mime for o in outputs for mime in o.get("data", {})} <= ALLOWED_MIME, path
        assert [o.metadata for o in outputs if "metadata" in o and o.metadata] == [], path


def test_honest_pages_keep_verdicts_prose_latex_and_images(catalogue, pages):
    course, _ = catalogue
    release = nbformat.read(course.release_notebook(AID, NB), as_version=4)
    tests = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    feedback = pages["sample-full"]["feedback"]
    assert feedback.count("Autograder: all ") == len(tests)  # every test cell's verdict: passed
    assert "Assignment 01 — numpy in a nutshell¶" in readable(feedback)  # the heading, as it reads
    assert r"$D_{ij} = \lVert x_i - y_j \rVert^2 = \sum_k (x_{ik} - y_{jk})^2$" in feedback
    for page in pages["xss-display"].values():  # the one image among the displays survives
        assert f'src="data:image/png;base64,{PNG_1PX}"' in page
    assert "[autograder: not shown, only text and PNG/JPEG images are: text/html]" in pages["xss-display"]["feedback"]
