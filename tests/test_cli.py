"""The instructor's CLI (python -m autograder) and the student bundle it releases."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.cli import main
from autograder.course import Course
from autograder.cells import NO_SANDBOX, is_test_cell
from autograder.report import grade_rows
from autograder.submissions import autograded_points, fill_release, solution_answers, write_submission
from conftest import ROOT

AID = "01_numpy"


def test_help_lists_the_instructor_steps():
    out = subprocess.run([sys.executable, "-m", "autograder", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    for step in ("release", "collect", "grade", "feedback", "export", "report", "demo"):
        assert step in out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course.scratch(tmp_path_factory.mktemp("cli"), [AID])
    main(["--root", str(course.root), "release", AID])
    return course


def test_the_released_zip_runs_on_its_own(course, tmp_path, monkeypatch):
    """A student with only dist/<id>.zip (no repo, no symlinks) can run the whole notebook."""
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    with zipfile.ZipFile(course.root / "dist" / f"{AID}.zip") as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / AID
    assert not (folder / "helpers.py").is_symlink()
    nb = nbformat.read(folder / f"{AID}.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    errors = [o.ename for c in nb.cells if c.cell_type == "code" and not is_test_cell(c)
              for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert any("(10000, 28, 28) uint8" in o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_collect_grade_feedback_export_report(course, tmp_path, capsys):
    handins = tmp_path / "handins"
    (handins / "ada").mkdir(parents=True)
    full = fill_release(course, AID, AID, solution_answers(course, AID, AID))
    nbformat.write(full, handins / "ada" / f"{AID}.ipynb")
    with zipfile.ZipFile(handins / "bob.zip", "w") as zf:  # an LMS download: one zip per student
        zf.writestr(f"whatever/{AID}.ipynb", nbformat.writes(fill_release(course, AID, AID, {})))
    root = ["--root", str(course.root)]
    main(root + ["collect", AID, str(handins)])
    main(root + ["grade", AID])
    main(root + ["feedback", AID])
    main(root + ["export"])
    capsys.readouterr()
    main(root + ["report", AID])
    table = capsys.readouterr().out
    full = f"{autograded_points(course, AID, AID):g}"
    assert "ada" in table and f"{full} / {full}" in table and "bob" in table and f"0 / {full}" in table
    page = (course.root / "reports" / f"{AID}.html").read_text()
    assert f"class report: reports/{AID}.html" in table and f"Class report: {AID}" in page
    assert "data:image/png;base64," in page  # the histogram, embedded
    assert (course.root / "feedback" / "ada" / AID / f"{AID}.html").exists()
    csv = (course.root / "reports" / "grades-nbgrader.csv").read_text()
    assert "ada" in csv and "bob" in csv


def test_without_the_sandbox_grading_still_works_and_says_so_loudly(tmp_path):
    course = Course.scratch(tmp_path, [AID])
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write("\nc.SandboxedExecute.sandbox = False\n")
    nb = fill_release(course, AID, AID, solution_answers(course, AID, AID))
    write_submission(course, "ada", AID, {AID: nb})
    log = course.nbgrader("autograde", AID, "--create").stderr
    assert "SANDBOX UNAVAILABLE" in log
    [row] = grade_rows(course, AID)
    assert row.score == row.max_score == autograded_points(course, AID, AID)
    assert any(p.startswith(NO_SANDBOX) for p in row.problems)
