"""Feedback that diagnoses (autograder/diagnose.py): a failed cell whose record matches a known bug's
names that bug's mistake, and nothing else does.

Unit tests of the canonical form on synthetic outcomes (milliseconds), the fingerprints files'
freshness, the selftest route that writes them, and a class graded end to end by nbgrader: a
student with bank bugs gets exactly their diagnoses, a wrong answer outside the bank and the
solution get none, and the feedback shows the explanation without any expected value.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbgrader.api import Gradebook

import helpers
from autograder import assignments, diagnose, selftest
from autograder.course import Course
from autograder.records import Outcome, Unsupported
from autograder.report import grade_rows, write_report
from autograder.submissions import Bug, apply_bugs, fill_release, solution_answers, write_submission
from conftest import ASSIGNMENTS, REPLAY, ROOT
from pages import readable

KIT = Course(ROOT)
AID = "01_numpy"


def fp(*values, **kw) -> str:
    """The fingerprint of a cell whose cases returned ``values`` (with ``kw`` as each Outcome's fields)."""
    return diagnose.fingerprint([Outcome(value=v, **kw) for v in values])


# ---------------------------------------------------------------- the canonical form


def test_float_noise_and_negative_zero_do_not_change_the_fingerprint():
    x = np.random.default_rng(0).normal(size=(4, 3))
    assert fp(x) == fp(x * (1 + 1e-12))
    assert fp(np.array([1.0, 0.0])) == fp(np.array([1.0, -0.0])) == fp(np.array([1.0, 1e-17]))
    assert fp(0.25) == fp(np.float64(0.25))


def test_a_real_difference_changes_the_fingerprint():
    x = np.random.default_rng(0).normal(size=(4, 3))
    y = x.copy()
    y[2, 1] *= 1.001
    assert fp(x) != fp(y)  # one entry, in the fourth significant digit
    assert fp(np.array([1e-17])) != fp(np.array([0.0]))  # alone, a tiny value is no noise
    assert fp(2 ** 70) != fp(2 ** 70 + 1)


@pytest.mark.parametrize("a, b", [
    (np.zeros(3), np.zeros((1, 3))),  # shape
    (np.zeros(3), np.zeros(3, dtype=int)),  # dtype kind
    (np.zeros(3, dtype=np.uint8), np.zeros(3, dtype=int)),
    (np.array(True), np.array(1)),
    ([1.0, 2.0], (1.0, 2.0)),  # container
    ({"W": np.ones(2)}, {"b": np.ones(2)}),  # keys
    (np.ones(2), [1.0, 1.0]),
    (None, np.array(np.nan)),
    ("relu", "ReLU"),
    (Unsupported("generator"), Unsupported("map")),
])
def test_structure_shapes_and_dtype_kinds_are_part_of_the_fingerprint(a, b):
    assert fp(a) != fp(b)


def test_every_case_counts():
    assert fp(1.0, 2.0) != fp(1.0)
    assert fp(1.0, 2.0) != fp(2.0, 1.0)


def test_what_raised_and_warned_counts_but_not_the_message_nor_how_often():
    def raised(name, message="", warnings=()):
        return diagnose.fingerprint([Outcome(raised=name, message=message, warnings=list(warnings))])

    assert raised("ValueError", "bad window") == raised("ValueError", "window outside the image")
    assert raised("ValueError") != raised("IndexError") != raised("Timeout")
    assert fp(np.nan, warnings=["RuntimeWarning"]) == fp(np.nan, warnings=["RuntimeWarning"] * 3)
    assert fp(np.nan, warnings=["RuntimeWarning"]) != fp(np.nan)


def test_scenarios_count_step_by_step():
    def scenario(*values):
        return diagnose.fingerprint([Outcome(steps=[Outcome(value=v) for v in values])])

    assert scenario(None, np.ones(2)) == scenario(None, np.ones(2))
    assert scenario(None, np.ones(2)) != scenario(None, np.ones(2) * 2)
    assert scenario(None, np.ones(2)) != scenario(None)  # stopped early
    assert scenario(np.ones(2)) != fp(np.ones(2))


def test_a_record_that_is_cut_short_or_missing_has_no_fingerprint(tmp_path):
    record = tmp_path / "test.json"
    record.write_text(json.dumps({"results": [{"value": helpers._encode(v), "warnings": []}
                                              for v in (np.eye(2), 3.0)]}))
    assert diagnose.record_fingerprint(record, 2) == fp(np.eye(2), 3.0)  # as the kernel wrote it
    assert diagnose.record_fingerprint(record, 3) is None  # the cell stopped before its third case
    assert diagnose.record_fingerprint(tmp_path / "none.json", 2) is None


def test_a_record_of_crashes_alone_has_no_fingerprint(tmp_path):
    """Two of 03's bugs (a bias gradient per example, a transposed product) both make optimise raise
    ValueError after steps that return None: that fits any crash, and names no mistake."""
    crash = {"raised": "ValueError", "message": "", "warnings": []}
    none = {"value": helpers._encode(None), "warnings": []}
    record = tmp_path / "t.json"
    record.write_text(json.dumps({"results": [{"steps": [none, none, crash]}, crash]}))
    assert diagnose.record_fingerprint(record, 2) is None
    record.write_text(json.dumps({"results": [{"steps": [none, {"value": helpers._encode(0.5), "warnings": []},
                                                         crash]}, crash]}))
    assert diagnose.record_fingerprint(record, 2) is not None  # a value to match beside the crash


def test_any_value_a_record_can_hold_has_a_fingerprint(tmp_path):
    """The score stage fingerprints whatever a (hostile) kernel recorded: nothing in a record makes it raise."""
    values = [2 ** 200, -(2 ** 70), np.uint64(2 ** 64 - 1), np.array([np.nan, np.inf, -np.inf]), np.float16(3.5),
              np.array([1 + 2j, np.nan], dtype=np.complex64), np.zeros((0, 3)), np.array(7), np.True_,
              [{"a": (None, "x")}], {"": []}, float("nan")]
    record = tmp_path / "t.json"
    record.write_text(json.dumps({"results": [{"value": helpers._encode(v), "warnings": []} for v in values]}))
    assert diagnose.record_fingerprint(record, len(values)) == fp(*values)
    assert len({fp(v) for v in values}) == len(values)


# ---------------------------------------------------------------- the bank


def test_the_bank_ignores_right_values_and_names_twins_together(tmp_path):
    right, wrong = fp(1.0), fp(2.0)
    cells = diagnose.build({"loop": {"t": right}, "off": {"t": wrong}, "also_off": {"t": wrong},
                            "crash": {"t": None}}, ignore={"t": {right}})
    assert cells == {"t": {wrong: ["off", "also_off"]}}
    record = tmp_path / "t.json"
    record.write_text(json.dumps({"results": [{"value": helpers._encode(2.0), "warnings": []}]}))
    bank = diagnose.Bank(cells, {"off": Bug("off", "count", "", "", ("t",), "adds one"),
                                 "also_off": Bug("also_off", "start", "", "", ("t",), "counts from one")})
    known = bank.diagnose("t", record, 1)
    assert [k.bug for k in known] == ["off", "also_off"]
    assert diagnose.sentence(known, "test_count_hidden") == (
        "this matches a known mistake: adds one; or: counts from one (in your start answer)")
    assert bank.diagnose("t", record, 2) == [] and bank.diagnose("other", record, 1) == []


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_fingerprints_are_fresh(aid):
    """Like the release: regenerate them after changing the solution, hidden tests, bug bank or helpers."""
    assert diagnose.stale(aid) is None


def _kit_copy(tmp: Path, aid: str) -> Path:
    """The files a fingerprints file depends on, copied to ``tmp``."""
    package = Path("autograder") / "assignments" / f"a{aid}"
    for rel in ("helpers.py", package / "hidden_tests.py", package / "bug_bank.py", package / diagnose.FILE):
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp / rel)
    shutil.copytree(ROOT / "solutions" / aid, tmp / "solutions" / aid, symlinks=True)
    return tmp


def test_a_change_to_what_bugs_record_makes_the_fingerprints_stale_and_says_what_to_run(tmp_path):
    root = _kit_copy(tmp_path, AID)
    assert diagnose.stale(AID, root) is None
    notebook = root / "solutions" / AID / f"{AID}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = []  # re-running the solution changes no bug's record
    nbformat.write(nb, notebook)
    assert diagnose.stale(AID, root) is None
    code.source += "\n"
    nbformat.write(nb, notebook)
    assert f"`python -m autograder selftest {AID} --fingerprints`" in diagnose.stale(AID, root)
    for name in ("hidden_tests.py", "bug_bank.py"):
        root = _kit_copy(tmp_path / name, AID)
        path = root / "autograder" / "assignments" / f"a{AID}" / name
        path.write_text(path.read_text() + "\n")
        assert "is stale" in diagnose.stale(AID, root)
        assert diagnose.load(AID, root)[0] is None  # a stale bank names nothing


def test_selftest_writes_what_is_committed(tmp_path, capsys):
    """The selftest route, on the solution, the release and a few bugs: the committed entries are its output."""
    names = ("rotate_negative_k", "rotate_clockwise", "one_hot_loop")
    bank = {b.name: b for b in assignments.bug_bank(AID)}
    full = {nb: solution_answers(KIT, AID, nb) for nb in KIT.notebooks(AID)}
    todo = [("solution", full), ("untouched release", {nb: {} for nb in full})]
    todo += [(name, {nb: apply_bugs(a, [bank[name]]) for nb, a in full.items()}) for name in names]
    with ProcessPoolExecutor(2, mp_context=get_context("fork")) as pool:
        solution, untouched, *bugged = pool.map(selftest._run_one, [(KIT.root, AID, n, a) for n, a in todo])
    dest = selftest.write_fingerprints(KIT, AID, solution, untouched, [(bank[n], r) for n, r in zip(names, bugged)],
                                       dest=tmp_path / diagnose.FILE)
    written = json.loads(dest.read_text())
    committed = json.loads(diagnose.path_of(AID).read_text())
    assert written["digest"] == committed["digest"]
    assert written["cells"] and written["cells"] == {
        gid: kept for gid, prints in committed["cells"].items()
        if (kept := {f: [n for n in bugs if n in names] for f, bugs in prints.items() if set(bugs) & set(names)})}
    out = capsys.readouterr().out
    assert "one_hot_loop: named nowhere" in out  # right values with a forbidden loop: the rule says it


# ---------------------------------------------------------------- graded end to end


DIAGNOSED = ("standardize_sample_std", "rotate_negative_k")  # two cells, each bug alone on its cells
NOT_IN_BANK = ("Z = (X - mu) / np.where(sigma > 0, sigma, 1.0)", "Z = X - mu")  # forgets to divide


def _page_text(page: Path) -> str:
    return readable(page.read_text())  # what the student reads


@pytest.fixture(scope="module")
def diagnosed(tmp_path_factory):
    """A scratch course of 01 with three students, autograded and given feedback by nbgrader."""
    course = Course.scratch(tmp_path_factory.mktemp("diagnose"), [AID])
    bank = {b.name: b for b in assignments.bug_bank(AID)}
    full = solution_answers(course, AID, AID)
    wrong = dict(full, standardize=full["standardize"].replace(*NOT_IN_BANK))
    assert wrong["standardize"] != full["standardize"]
    for student, answers in [("honest", full), ("banked", apply_bugs(full, [bank[n] for n in DIAGNOSED])),
                             ("unbanked", wrong)]:
        write_submission(course, student, AID, {AID: fill_release(course, AID, AID, answers)})
    course.nbgrader("autograde", AID, "--create")
    course.nbgrader("generate_feedback", AID, "--force")
    return course


def _report(course: Course, student: str) -> dict:
    return json.loads((course.root / "autograded" / student / AID / f"{AID}.grading.json").read_text())


def _scores(course: Course, student: str) -> dict[str, float]:
    with Gradebook(course.db_url, course.course_id) as gb:
        nb = gb.find_submission_notebook(AID, AID, student)
        return {g.name: g.score for g in nb.grades if g.cell_type == "code"}


def test_a_bank_bug_is_named_on_the_cells_it_loses_and_only_there(diagnosed):
    bank = {b.name: b for b in assignments.bug_bank(AID)}
    tests = _report(diagnosed, "banked")["tests"]
    named = {gid: [d["bug"] for d in t["diagnosis"]] for gid, t in tests.items() if t["diagnosis"]}
    assert named == {"test_standardize_hidden": ["standardize_sample_std"],
                     "test_rotate90_hidden": ["rotate_negative_k"]}
    for gid, (bug,) in named.items():
        assert tests[gid]["reason"].endswith(f"; this matches a known mistake: {bank[bug].why}")
    lost = {gid for gid, score in _scores(diagnosed, "banked").items() if score == 0}
    assert lost == {t for name in DIAGNOSED for t in bank[name].loses}  # the diagnosis changed no score


def test_a_wrong_answer_outside_the_bank_and_the_solution_are_named_nothing(diagnosed):
    unbanked = _report(diagnosed, "unbanked")["tests"]
    assert not unbanked["test_standardize_hidden"]["passed"]  # it fails, and it is no known mistake
    assert all(t["diagnosis"] == [] for t in unbanked.values())
    assert all(t["passed"] and t["diagnosis"] == [] for t in _report(diagnosed, "honest")["tests"].values())


def test_feedback_and_the_instructor_s_report_name_the_mistake_and_no_expected_value(diagnosed):
    bank = {b.name: b for b in assignments.bug_bank(AID)}
    text = _page_text(diagnosed.root / "feedback" / "banked" / AID / f"{AID}.html")
    for name in DIAGNOSED:
        assert f"this matches a known mistake: {bank[name].why}" in text
    hidden = assignments.hidden_tests(AID)["test_standardize_hidden"]
    inputs, expected = hidden.cases[0].args[0], hidden.cases[0].expect.parts[0].expected
    shown = {f"{x:.4f}" for x in np.concatenate([np.ravel(inputs), np.ravel(expected)]) if abs(x) > 0.01}
    assert shown and not {s for s in shown if s in text}
    assert 'record_for_grader("' not in text and "HIDDEN TESTS" not in text
    assert "known mistake" not in _page_text(diagnosed.root / "feedback" / "unbanked" / AID / f"{AID}.html")
    report = write_report(diagnosed, AID, grade_rows(diagnosed, AID)).read_text()
    assert "test_rotate90_hidden: " in report and bank["rotate_negative_k"].why in report


# ---------------------------------------------------------------- the whole bank, in the suite's graded courses


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_every_bank_bug_graded_by_nbgrader_is_named_where_its_fingerprint_is(graded, aid):
    """Bugs graded in the sandboxed kernel record what selftest recorded in this process: each is named on
    every cell where it has a fingerprint, no submission is named a bug it does not hold. A cell whose
    visible checks stop it before its hidden line has no record to diagnose (selftest runs the hidden
    cases alone): there the reason is the visible check's and nothing is named."""
    assert diagnose.stale(aid) is None, diagnose.stale(aid)
    g = graded(aid)
    cells = json.loads(diagnose.path_of(aid).read_text())["cells"]
    holds = {**g.rounds, "sample-full": [], "sample-untouched": [], REPLAY: []}
    for student, bugs in holds.items():
        for notebook in g.course.notebooks(aid):
            tests = g.report(student, notebook)["tests"]
            named = {(gid, d["bug"]) for gid, t in tests.items() for d in t["diagnosis"]}
            # the reason scoring gives a cell that left no record, only its error (autograder/scoring.judge)
            unrecorded = {gid for gid, t in tests.items() if t["reason"].startswith("the cell stopped at ")}
            expected = {(gid, twin) for b in bugs for gid in b.loses if gid not in unrecorded  # twins: named together
                        for names in cells.get(gid, {}).values() if b.name in names for twin in names}
            assert named == expected, student
