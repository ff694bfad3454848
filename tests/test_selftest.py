"""``python -m autograder selftest``: the in-process loop gives nbgrader's verdicts, and it can fail."""

from __future__ import annotations

import dataclasses

import pytest

from autograder import assignments, selftest
from autograder.course import Course
from autograder.submissions import apply_bugs, solution_answers
from conftest import ASSIGNMENTS, ROOT

KIT = Course(ROOT)
AID = "01_numpy"


def _failed_in_gradebook(g, student: str) -> set[str]:
    return {gid for nb in g.course.notebooks(g.assignment)
            for gid, score in g.cell_scores(student, nb).items() if score == 0}


def test_selftest_agrees_with_nbgrader_on_the_samples_and_a_bug_round(graded):
    """Same submissions, two routes: in this process, and sandboxed through nbgrader."""
    g = graded(AID)
    full = {nb: solution_answers(KIT, AID, nb) for nb in KIT.notebooks(AID)}
    student, bugs = next(iter(g.rounds.items()))
    submissions = {
        "sample-full": full,
        "sample-untouched": {nb: {} for nb in full},
        student: {nb: apply_bugs(a, [b for b in bugs if b.cell in a]) for nb, a in full.items()},
    }
    for name, answers in submissions.items():
        run = selftest.run(KIT, AID, name, answers)
        assert run.failed() == _failed_in_gradebook(g, name), name
    assert _failed_in_gradebook(g, student), "the bug round must lose something for this to mean anything"


def test_selftest_reports_a_bug_that_loses_other_cells_than_it_claims(monkeypatch, capsys):
    real = next(b for b in assignments.bug_bank(AID) if b.name == "rotate_negative_k")  # loses the hidden cell only
    claims_too_much = dataclasses.replace(real, name="claims_basic_too", loses=("test_rotate90_basic",
                                                                                "test_rotate90_hidden"))
    harmless = dataclasses.replace(real, name="changes_nothing", new=real.old, loses=("test_rotate90_hidden",))
    monkeypatch.setattr(assignments, "bug_bank", lambda aid: [real, claims_too_much, harmless])
    assert selftest.selftest(KIT, AID, workers=2) is False
    out = capsys.readouterr().out
    assert "solution (" in out and "untouched release: fails 18 of 18" in out
    assert f"ok    {real.name}: loses test_rotate90_hidden" in out
    assert "WRONG claims_basic_too" in out and "still passes test_rotate90_basic" in out
    assert "WRONG changes_nothing: loses nothing" in out


def test_selftest_passes_on_a_sound_bank(monkeypatch, capsys):
    bank = [b for b in assignments.bug_bank(AID) if b.cell == "rotate90"]
    monkeypatch.setattr(assignments, "bug_bank", lambda aid: bank)
    assert selftest.selftest(KIT, AID, workers=2) is True
    assert f"{AID}: OK; {len(bank)} bugs" in capsys.readouterr().out


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_every_bug_alone_loses_exactly_its_cells(aid, capsys):
    """The in-process proof, bug by bug, that conftest.bug_rounds relies on to grade several
    bugs in one nbgrader submission (and the solution full, the release nothing)."""
    assert selftest.selftest(KIT, aid, workers=2) is True, capsys.readouterr().out
