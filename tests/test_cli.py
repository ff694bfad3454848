"""The instructor's CLI (python -m autograder) and the student bundle it releases."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.api import Gradebook

from autograder.cli import class_summary, main
from autograder.course import Course
from autograder.cells import NO_SANDBOX, is_test_cell
from autograder.report import Row, grade_rows
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


def test_releasing_every_assignment_in_one_nbgrader_run_releases_each_as_alone(tmp_path):
    """release with no ids runs generate_assignment "*" once: each assignment gets the notebooks,
    the helpers.py link and the zip, and the gradebook its own cells, as a release of it alone does."""
    course = Course.scratch(tmp_path / "all")
    shutil.rmtree(course.release)
    alone = Course.scratch(tmp_path / "alone", [AID])
    main(["--root", str(course.root), "release"])
    main(["--root", str(alone.root), "release", AID])
    for aid in course.assignments():
        assert (course.release / aid / "helpers.py").readlink() == Path("../../helpers.py")
        assert sorted(p.name for p in (course.release / aid).glob("*.ipynb")) == [f"{aid}.ipynb"]
        assert (course.root / "dist" / f"{aid}.zip").is_file()
    assert ((course.release / AID / f"{AID}.ipynb").read_bytes() == (alone.release / AID / f"{AID}.ipynb").read_bytes())
    with Gradebook(course.db_url, course.course_id) as gb, Gradebook(alone.db_url, alone.course_id) as gb1:
        assert sorted(a.name for a in gb.assignments) == course.assignments()
        cells = lambda g: sorted((c.name, c.max_score) for c in g.find_notebook(AID, AID).grade_cells)
        assert cells(gb) == cells(gb1) != []


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


def test_the_demo_summary_counts_the_class_and_names_its_most_frequent_mistakes():
    diagnosed = lambda *bugs: {"test_x_hidden": {"passed": False, "diagnosis": [{"bug": b, "why": f"{b} why"}
                                                                                 for b in bugs]}}
    rows = [Row("a", AID, 10, 10), Row("b", AID, 0, 10, tests=diagnosed("flip", "off_by_one")),
            Row("c", AID, 5, 10, tests=diagnosed("flip"))]
    text = class_summary(AID, rows)
    assert f"{AID}: 3 submissions, mean 50 % autograded, 1 with full marks, 1 with none" in text
    assert text.index("  2 x flip: flip why") < text.index("  1 x off_by_one: off_by_one why")
    assert f"reports/{AID}.md" in text and f"reports/{AID}.html" in text
