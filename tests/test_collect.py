"""Collecting hand-ins (autograder/collect.py): every case of tests/hostile_handins.py, and grading after it.

The catalogue is collected in one run into a course folder with just the
solutions (no grading needed to see where files land); one test grades for
real, to show that a linked solution earns nothing while honest work collected
the same way keeps every point.
"""

from __future__ import annotations

import importlib.util
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.cli import grade, main
from autograder.collect import COLLECTED, FLAGGED, REFUSED, collect_handins, instructor_material
from autograder.course import Course
from autograder.report import grade_rows
from autograder.submissions import autograded_points
from conftest import ROOT
from hostile_handins import (AID, CATALOGUE, NOTEBOOK, build_handins, collect_catalogue, context,
                             solutions_only_course)

CASES = {case.name: case for case in CATALOGUE}


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """(the course, hand-in name -> Outcome) after collecting the whole catalogue at once."""
    tmp = tmp_path_factory.mktemp("collect")
    course = solutions_only_course(tmp / "course")
    return course, collect_catalogue(course)


@pytest.mark.parametrize("name", list(CASES))
def test_each_handin_is_collected_refused_or_flagged_with_its_reason(collected, name):
    course, outcomes = collected
    case, outcome = CASES[name], outcomes[name]
    assert (outcome.status, outcome.files) == (case.outcome, case.files), outcome
    assert case.reason in outcome.reason
    area = {COLLECTED: "submitted", FLAGGED: "flagged"}.get(case.outcome)
    for where in ("submitted", "flagged"):
        folder = course.root / where / outcome.student / AID
        held = sorted(os.listdir(folder)) if outcome.student and folder.is_dir() else []
        assert held == (sorted(case.files) if where == area else [])


def test_collected_notebooks_are_the_students_own_bytes(collected):
    """victim keeps victim's notebook (not victim.v2's); a loop or a .git/ copy changes nothing;
    a lone notebook handed in under another name is collected under the assignment's."""
    course, outcomes = collected
    honest = context(course).honest
    for name in ("ada", "bob.zip", "team-red", "victim", "loops", "renamed"):
        assert (course.root / "submitted" / outcomes[name].student / AID / NOTEBOOK).read_bytes() == honest


def test_nothing_lands_outside_submitted_and_flagged(collected):
    course, outcomes = collected
    assert sorted(os.listdir(course.root.parent)) == ["course"]
    assert sorted(os.listdir(course.root)) == ["flagged", "hand-ins", "solutions", "submitted"]
    assert sorted(os.listdir(course.root / "submitted")) == sorted(
        o.student for o in outcomes.values() if o.status == COLLECTED)
    assert os.listdir(course.root / "flagged") == ["eve"]
    assert not os.path.exists(f"/tmp/absolute-{NOTEBOOK}")


def test_every_handin_is_reported_whatever_the_others_did(collected):
    """A loop, a bomb or a FIFO in one hand-in never stops the collection of the others."""
    course, outcomes = collected
    assert sorted(outcomes) == sorted(os.listdir(course.root / "hand-ins")) == sorted(CASES)


def _student_folder(course, student):
    return course.root / "submitted" / student / AID


def test_collecting_again_replaces_only_that_students_submission(tmp_path):
    course = solutions_only_course(tmp_path / "course")
    ctx = context(course)
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, files in [(first / "ada", {NOTEBOOK: ctx.untouched, "draft.ipynb": ctx.untouched}),
                          (first / "bob", {NOTEBOOK: ctx.honest}), (second / "ada", {NOTEBOOK: ctx.honest})]:
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    other = course.root / "submitted" / "ada" / "02_activations"  # ada's hand-in of another assignment
    other.mkdir(parents=True)
    (other / "02_activations.ipynb").write_bytes(b"{}")

    collect_handins(course, AID, first)
    assert sorted(os.listdir(_student_folder(course, "ada"))) == ["01_numpy.ipynb", "draft.ipynb"]
    [outcome] = collect_handins(course, AID, second)
    assert outcome.status == COLLECTED
    assert os.listdir(_student_folder(course, "ada")) == [NOTEBOOK]
    assert (_student_folder(course, "ada") / NOTEBOOK).read_bytes() == ctx.honest
    assert (_student_folder(course, "bob") / NOTEBOOK).read_bytes() == ctx.honest
    assert (other / "02_activations.ipynb").read_bytes() == b"{}"
    assert sorted(os.listdir(course.root / "submitted" / "ada")) == ["01_numpy", "02_activations"]


def test_a_refused_handin_keeps_the_last_submission_and_a_flagged_one_removes_it(tmp_path):
    course = solutions_only_course(tmp_path / "course")
    ctx = context(course)
    for student, data in [("ada", ctx.honest), ("eve", ctx.honest)]:
        (tmp_path / "first" / student).mkdir(parents=True)
        (tmp_path / "first" / student / NOTEBOOK).write_bytes(data)
    collect_handins(course, AID, tmp_path / "first")
    (tmp_path / "second" / "ada").mkdir(parents=True)
    (tmp_path / "second" / "ada" / NOTEBOOK).symlink_to(ctx.solution)
    (tmp_path / "second" / "eve").mkdir()
    (tmp_path / "second" / "eve" / NOTEBOOK).write_bytes(ctx.solution.read_bytes())

    outcomes = {o.handin: o for o in collect_handins(course, AID, tmp_path / "second")}
    assert (outcomes["ada"].status, outcomes["eve"].status) == (REFUSED, FLAGGED)
    assert (_student_folder(course, "ada") / NOTEBOOK).read_bytes() == ctx.honest
    assert not _student_folder(course, "eve").exists()
    assert "earlier submission was removed" in outcomes["eve"].reason
    assert (course.root / "flagged" / "eve" / AID / NOTEBOOK).read_bytes() == ctx.solution.read_bytes()


def test_an_id_differing_only_in_case_from_a_submitted_student_is_refused(tmp_path):
    course = solutions_only_course(tmp_path / "course")
    ctx = context(course)
    for run, student in [("first", "ada"), ("second", "Ada")]:
        (tmp_path / run / student).mkdir(parents=True)
        (tmp_path / run / student / NOTEBOOK).write_bytes(ctx.untouched if student == "Ada" else ctx.honest)
    collect_handins(course, AID, tmp_path / "first")
    [outcome] = collect_handins(course, AID, tmp_path / "second")
    assert outcome.status == REFUSED and "'ada' is already in submitted/" in outcome.reason
    assert os.listdir(course.root / "submitted") == ["ada"]
    assert (_student_folder(course, "ada") / NOTEBOOK).read_bytes() == ctx.honest


def _notebook_with(source: str) -> bytes:
    return nbformat.writes(new_notebook(cells=[new_code_cell(source)])).encode()


# what nbgrader puts in the instructor's notebooks only, and the probe line of every hidden test cell
MARKERS = ["### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", 'record_for_grader("']


@pytest.mark.parametrize("marker", MARKERS)
def test_each_instructor_marker_is_found_even_escaped(marker):
    source = f"x = 1\n{marker}test_one_hot\")\n"
    assert instructor_material(_notebook_with(source)) == marker
    escaped = _notebook_with(source).replace(b"#", b"\\u0023").replace(b"record", b"\\u0072ecord")
    assert instructor_material(escaped) == marker
    assert instructor_material(source.encode()) == marker  # not JSON: searched as text


def test_student_notebooks_hold_no_instructor_marker(tmp_path):
    """The release, an honest answer and a student who merely imports the probe are not flagged."""
    ctx = context(solutions_only_course(tmp_path))
    for data in (ctx.honest, ctx.untouched, _notebook_with("from helpers import record_for_grader")):
        assert instructor_material(data) is None
    assert instructor_material(ctx.solution.read_bytes()) is not None


def test_bad_arguments_are_refused_with_a_reason_and_collect_nothing(tmp_path, capsys):
    course = solutions_only_course(tmp_path / "course")
    (tmp_path / "hand-ins" / "ada").mkdir(parents=True)
    root = ["--root", str(course.root), "collect"]
    with pytest.raises(SystemExit, match="unknown assignment '99_nope'"):
        main(root + ["99_nope", str(tmp_path / "hand-ins")])
    with pytest.raises(SystemExit, match="is not a folder"):
        main(root + [AID, str(tmp_path / "missing")])
    assert not (course.root / "submitted").exists()
    main(root + [AID, str(tmp_path / "hand-ins")])
    assert "REFUSED ada: no notebook to collect" in capsys.readouterr().out


def test_the_docs_section_is_generated_from_the_cases(tmp_path):
    spec = importlib.util.spec_from_file_location("integrity_table", ROOT / "docs" / "integrity_table.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    section = table.collect_section(tmp_path)
    assert "## Collecting hand-ins" in section
    for case in CATALOGUE:
        assert f"| `{case.name}` | {case.what} | {case.outcome} |" in section


def test_a_linked_solution_earns_nothing_and_honest_work_collected_alike_earns_everything(tmp_path, capsys):
    """End to end: collect (the CLI), then the real sandboxed grading."""
    course = Course.scratch(tmp_path / "course", [AID])
    cases = [CASES[name] for name in ("ada", "mallory", "trudy", "hard-link", "eve")]
    handins = build_handins(course, cases)
    main(["--root", str(course.root), "collect", AID, str(handins)])
    out = capsys.readouterr().out
    assert "collected ada" in out and "FLAGGED eve" in out and out.count("REFUSED") == 3
    grade(course, AID, force=False)
    rows = {row.student: row for row in grade_rows(course, AID)}
    assert list(rows) == ["ada"]  # the others were never submitted, so never graded
    assert rows["ada"].score == rows["ada"].max_score == autograded_points(course, AID, AID)
