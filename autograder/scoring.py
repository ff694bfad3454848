"""Judging a test cell in the grader's own process.

This is the only place that decides whether a hidden test passed. It checks
the exercise's source rules (:mod:`autograder.rules`), reads the record the
kernel wrote (:mod:`autograder.records`), checks every case's expectation
(:mod:`autograder.cases`) and returns a :class:`Verdict`. Nothing here
imports or runs student code, and nothing a record holds can make it raise:
every problem is a failed check with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cases import Case, HiddenTest
from .records import Outcome, RecordError, read_record
from .rules import Answers, check_rules


@dataclass(frozen=True)
class Verdict:
    """passed: all checks passed. reason: one sentence for the student (and the instructor)."""

    passed: bool
    reason: str


def case_problem(case: Case, outcome: Outcome) -> str | None:
    """What is wrong with one call's outcome, as the student reads it, or None.

    The reason names the call and what the case exercises (``case.about``),
    never the expected value or the hidden input itself.
    """
    try:
        problem = case.expect.check(outcome)
    except Exception as exc:  # a value no comparison can take (a ragged tuple, say) is simply wrong
        problem = f"returned a value of the wrong form ({type(exc).__name__} when comparing it)"
    if not problem:
        return None
    where = f" ({case.about})" if case.about else ""
    return f"{case.call}{where}: {problem}"


def judge(test: HiddenTest, record_path: Path, answers: Answers, error: str = "") -> Verdict:
    """Check one test cell.

    test: the hidden test of the cell.
    record_path: outputs/<test_id>.json written by the kernel (may be missing).
    answers: the student's answer cells and the release's code, for the source rules.
    error: the first error the cell showed when it ran ("AssertionError: ..."), if any.
    """
    for grade_id in dict.fromkeys((*test.no_loops_in, *test.banned)):
        broken = check_rules(grade_id, answers, grade_id in test.no_loops_in, test.banned.get(grade_id, ()))
        if broken:
            return Verdict(False, broken)
    try:
        outcomes = read_record(record_path, len(test.cases))
    except RecordError as exc:
        if str(exc) == "no record" and error:
            return Verdict(False, f"the cell stopped at {error.splitlines()[0][:300]}")
        if str(exc) == "no record":
            return Verdict(False, "the hidden tests recorded nothing: the cell did not reach them, "
                                  "or something replaced them")
        return Verdict(False, f"the grading record is unusable ({exc}); was the probe tampered with?")
    for case, outcome in zip(test.cases, outcomes):
        problem = case_problem(case, outcome)
        if problem:
            return Verdict(False, problem)
    return Verdict(True, f"all {len(test.cases)} checks passed")
