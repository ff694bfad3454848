"""Every assignment, both directions, through the real nbgrader pipeline.

* the solution earns every autograded point;
* the untouched release runs without errors outside test cells and earns 0;
* replaying what the visible checks expected (tests/replay.py) earns 0;
* every bug in the bank loses the points it must, and only those;
* the release is exactly what solutions/ generates, with no answers or hidden tests in it;
* feedback shows no hidden test.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from autograder import assignments
from autograder.course import Course
from autograder.execute import SKIP_TAG, SKIPPED
from autograder.cells import NO_SANDBOX, is_test_cell
from conftest import ASSIGNMENTS, NOTEBOOKS, REPLAY, ROOT
from pages import readable
from replay import REPLAY_MARK

KIT = Course(ROOT)
FEEDBACK_ROUNDS = 3  # bug rounds whose feedback pages are checked (see test_feedback_shows_no_hidden_test)


def graded_cells(nb) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata.nbgrader.grade_id: c for c in nb.cells if is_test_cell(c)}


@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_every_test_cell_has_a_hidden_test_and_records_under_its_own_id(aid, notebook):
    cells = graded_cells(nbformat.read(KIT.source_notebook(aid, notebook), as_version=4))
    tests = assignments.hidden_tests(aid)
    assert set(cells) <= set(tests), f"test cells without hidden tests: {set(cells) - set(tests)}"
    for gid, cell in cells.items():
        assert f'record_for_grader("{gid}"' in cell.source, f"{gid} records under another id"
        hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1]
        assert "### END HIDDEN TESTS" in hidden


@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_solution_earns_full_marks(graded, aid, notebook):
    g = graded(aid)
    score, max_score = g.score("sample-full", notebook)
    report = g.report("sample-full", notebook)
    failed = {t: v["reason"] for t, v in report["tests"].items() if not v["passed"]}
    problems = [p for p in report["problems"] if not p.startswith(NO_SANDBOX)]  # see test_cli
    assert max_score > 0
    assert (score, failed, problems) == (max_score, {}, [])


@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_solution_grades_within_half_its_time_budget(graded, aid, notebook):
    """The budget is the assignment's TIME_BUDGET: room for slow honest code, and a bound on everyone."""
    budget = assignments.time_budget(aid)
    assert budget is not None, f"autograder/assignments/a{aid}/__init__.py sets no TIME_BUDGET"
    seconds = graded(aid).report("sample-full", notebook)["seconds"]
    assert 0 < seconds <= budget / 2, f"the solution took {seconds} s of its {budget} s budget"


@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_untouched_release_runs_clean_and_earns_nothing(graded, aid, notebook):
    g = graded(aid)
    assert g.score("sample-untouched", notebook)[0] == 0
    assert set(g.cell_scores("sample-untouched", notebook).values()) == {0}
    autograded = nbformat.read(g.course.root / "autograded" / "sample-untouched" / aid / f"{notebook}.ipynb",
                               as_version=4)
    errors = [(i, o.ename, o.evalue) for i, c in enumerate(autograded.cells)
              if c.cell_type == "code" and not is_test_cell(c)
              for o in c.outputs if o.output_type == "error"]
    assert errors == [], "the untouched release must run without errors outside test cells"


@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_replaying_the_visible_checks_earns_nothing(graded, aid, notebook):
    """The release, with every check_* remembering what it expected and every answer replaying it.

    Against hidden tests that asked for the visible inputs again it earned every basic cell; the trick
    must really have run (its cell clean, the checks it wrapped printing ok) for the 0 to mean anything.
    """
    g = graded(aid)
    autograded = nbformat.read(g.course.root / "autograded" / REPLAY / aid / f"{notebook}.ipynb", as_version=4)
    (trick,) = [c for c in autograded.cells if c.cell_type == "code" and c.source.startswith(REPLAY_MARK)]
    assert [o.ename for o in trick.outputs if o.output_type == "error"] == []
    replayed = [c for c in graded_cells(autograded).values()
                if any("ok " in o.get("text", "") for o in c.outputs if o.output_type == "stream")]
    assert replayed, "the wrapped visible checks never ran"
    assert g.score(REPLAY, notebook)[0] == 0, g.report(REPLAY, notebook)["tests"]


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_every_bug_in_the_bank_loses_exactly_its_points(graded, aid):
    g = graded(aid)
    for student, bugs in g.rounds.items():
        for notebook in g.course.notebooks(aid):
            scores = g.cell_scores(student, notebook)
            must_lose = {t for b in bugs for t in b.loses}
            for bug in bugs:
                kept = {t: scores[t] for t in bug.loses if scores.get(t)}
                assert kept == {}, f"bug {bug.name} ({bug.why}) still earned {kept}"
            wrongly_lost = {t for t, s in scores.items() if t not in must_lose and s == 0}
            assert wrongly_lost == set(), f"{student} lost points on untouched cells {wrongly_lost}"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_sample_partial_keeps_visible_points_and_loses_hidden_ones(graded, aid):
    g = graded(aid)
    for notebook in g.course.notebooks(aid):
        score, max_score = g.score("sample-partial", notebook)
        assert 0 < score < max_score


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_is_what_the_solutions_generate(graded, aid):
    g = graded(aid)  # its scratch course generated the release afresh from solutions/
    for notebook in KIT.notebooks(aid):
        fresh = nbformat.read(g.course.release_notebook(aid, notebook), as_version=4)
        committed = nbformat.read(KIT.release_notebook(aid, notebook), as_version=4)
        assert fresh == committed, f"notebooks/{aid} is stale: run `python -m autograder release {aid}`"
    assert (KIT.release / aid / "helpers.py").resolve() == (ROOT / "helpers.py").resolve()


@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_release_holds_no_solution_and_no_hidden_test(aid, notebook):
    source = nbformat.read(KIT.source_notebook(aid, notebook), as_version=4)
    release_text = KIT.release_notebook(aid, notebook).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "record_for_grader(\\\""):
        assert marker not in release_text
    solution_lines = {line.strip() for cell in source.cells
                      for region in re.findall(r"### BEGIN SOLUTION(.*?)### END SOLUTION", cell.source, re.S)
                      for line in region.splitlines() if len(line.strip()) > 12}
    leaked = {line for line in solution_lines if line in release_text}
    assert leaked == set()


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_feedback_shows_no_hidden_test(graded, aid):
    """Feedback pages of the samples, the replay and the first bug rounds hide every hidden test.

    The untouched release fails every test cell, the partial sample fails hidden tests behind passing
    visible checks and the bug rounds fail them with wrong values: every way a verdict is printed.
    The other bug rounds would repeat those pages at a second of nbconvert each."""
    g = graded(aid)
    first_rounds, later_rounds = list(g.rounds)[:FEEDBACK_ROUNDS], list(g.rounds)[FEEDBACK_ROUNDS:]
    with g.feedback(f"--CourseDirectory.student_id_exclude={','.join(later_rounds)}") as feedback:
        pages = list(feedback.rglob("*.html"))
        students = {page.relative_to(feedback).parts[0] for page in pages}
        assert students == {"sample-full", "sample-untouched", "sample-partial", REPLAY, *first_rounds}
        for page in pages:
            text = readable(page.read_text())  # what the student reads
            assert "Autograder" in text, page  # every test cell shows its verdict
            assert 'record_for_grader("' not in text and "HIDDEN TESTS" not in text, page


@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_every_test_cell_has_a_bug_in_the_bank_that_it_catches(aid, notebook):
    cells = graded_cells(nbformat.read(KIT.source_notebook(aid, notebook), as_version=4))
    caught = {t for bug in assignments.bug_bank(aid) for t in bug.loses}
    assert set(cells) - caught == set(), "test cells that no bug of the bank proves"


@pytest.mark.parametrize("aid, notebook", NOTEBOOKS)
def test_experiment_cells_are_not_run_while_grading(graded, aid, notebook):
    source = nbformat.read(KIT.source_notebook(aid, notebook), as_version=4)
    tagged = [c.source for c in source.cells if SKIP_TAG in c.metadata.get("tags", ())]
    g = graded(aid)
    autograded = nbformat.read(g.course.root / "autograded" / "sample-full" / aid / f"{notebook}.ipynb",
                               as_version=4)
    skipped = [c for c in autograded.cells if c.cell_type == "code" and c.source in tagged]
    assert len(skipped) == len(tagged)
    assert all([o.get("text") for o in c.outputs] == [SKIPPED] for c in skipped)


def test_some_experiment_is_skipped_while_grading():
    """01's loop-vs-broadcast timing demo is tagged, so the test above checks something."""
    nb = nbformat.read(KIT.source_notebook("01_numpy", "01_numpy"), as_version=4)
    assert any(SKIP_TAG in c.metadata.get("tags", ()) for c in nb.cells)
