"""Judging a test cell in the grader's own process.

This is the only place that decides whether a hidden test passed. It checks
the exercise's source rules (:mod:`autograder.rules`), reads the record the
kernel wrote (:mod:`autograder.records`), checks every case's expectation
(:mod:`autograder.cases`), every scenario step's, then the relations between
recorded values (:mod:`autograder.relations`), and returns a :class:`Verdict`
listing every failing check. Nothing here imports or runs student code, and
nothing a record holds can make it raise: every problem is a failed check with
a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cases import Case, HiddenTest, Scenario, joined
from .records import Outcome, RecordError, Unsupported, read_record
from .rules import Answers, check_rules

MAX_FAILURES = 20  # failing checks kept in a verdict (each cut to MAX_PROBLEM characters)
MAX_PROBLEM = 400


@dataclass(frozen=True)
class Verdict:
    """passed: all checks passed. reason: one sentence for the student (and the instructor).

    failures: every failing check's reason (at most MAX_FAILURES), for the cell's output and
    <notebook>.grading.json; ``reason`` names the first few of them (cases.MAX_LISTED).
    """

    passed: bool
    reason: str
    failures: tuple[str, ...] = ()


def _guarded(check, *args) -> str | None:
    """``check(*args)``, a comparison that cannot take the value being a problem, not an exception."""
    try:
        return check(*args)
    except Exception as exc:  # a value no comparison can take (a ragged tuple, say) is simply wrong
        return f"returned a value of the wrong form ({type(exc).__name__} when comparing it)"


def _headed(case, problem: str | None) -> str | None:
    """A problem prefixed with the case's call and what it exercises (``case.about``)."""
    if not problem:
        return None
    where = f" ({case.about})" if case.about else ""
    return f"{case.call}{where}: {problem}"


def case_problem(case: Case, outcome: Outcome) -> str | None:
    """What is wrong with one call's outcome, as the student reads it, or None.

    The reason names the call and what the case exercises (``case.about``),
    never the expected value or the hidden input itself.
    """
    if outcome.steps is not None:
        return _headed(case, "the grading record holds steps for a single call; was the probe tampered with?")
    return _headed(case, _guarded(case.expect.check, outcome))


def scenario_problems(scenario: Scenario, outcome: Outcome) -> list[str]:
    """What is wrong in each step of a scenario (each headed as case_problem heads a case's)."""
    recorded = outcome.steps
    if recorded is None or len(recorded) > len(scenario.steps):
        return [_headed(scenario, "the grading record does not match the scenario; was the probe tampered with?")]
    problems = []
    for step, got in zip(scenario.steps, recorded):
        if step.expect is not None:
            problem = _guarded(step.expect.check_at, got, step.title)
        else:
            problem = f"{step.title}: raised {got.raised}: {got.message}" if got.raised else None
        if problem:
            problems.append(_headed(scenario, problem))
        if got.raised:  # the kernel ran no further step
            break
    else:
        if len(recorded) < len(scenario.steps):
            problems.append(_headed(scenario, f"stopped before {scenario.steps[len(recorded)].title} "
                                              f"without a reason; was the probe tampered with?"))
    return problems


def _named_outcomes(test: HiddenTest, outcomes: list[Outcome]) -> dict[str, Outcome]:
    """Name -> outcome, for every named case and scenario step that ran."""
    named = {}
    for case, outcome in zip(test.cases, outcomes):
        if isinstance(case, Scenario):
            named.update((s.name, o) for s, o in zip(case.steps, outcome.steps or ()) if s.name)
        elif case.name:
            named[case.name] = outcome
    return named


def relation_problem(relation, named: dict[str, Outcome]) -> str | None:
    """What is wrong with a relation, once every value it relates is there; None if it holds."""
    for ref in relation.refs:
        outcome = named.get(ref)
        if outcome is None or outcome.raised or isinstance(outcome.value, Unsupported):
            return f"{relation.about}: not checked, {ref} recorded no value"
    problem = _guarded(relation.check, [named[ref].value for ref in relation.refs])
    return f"{relation.about}: {problem}" if problem else None


def _verdict(problems: list[str], n_checks: int) -> Verdict:
    if not problems:
        return Verdict(True, f"all {n_checks} checks passed")
    cut = [p[:MAX_PROBLEM] for p in problems]
    reason = cut[0] if len(cut) == 1 else f"{len(cut)} checks failed: {joined(cut)}"
    return Verdict(False, reason, tuple(cut[:MAX_FAILURES]))


def judge(test: HiddenTest, record_path: Path, answers: Answers, error: str = "") -> Verdict:
    """Check one test cell.

    test: the hidden test of the cell.
    record_path: outputs/<test_id>.json written by the kernel (may be missing, or hold
        only the cases finished before the cell stopped).
    answers: the student's answer cells and the release's code, for the source rules.
    error: the first error the cell showed when it ran ("AssertionError: ..."), if any.
    """
    for grade_id in dict.fromkeys((*test.no_loops_in, *test.banned)):
        broken = check_rules(grade_id, answers, grade_id in test.no_loops_in, test.banned.get(grade_id, ()))
        if broken:
            return Verdict(False, broken, (broken,))
    stopped = f"the cell stopped at {error.splitlines()[0][:300]}" if error else ""
    try:
        outcomes = read_record(record_path, len(test.cases), partial=True)
    except RecordError as exc:
        if str(exc) == "no record" and stopped:
            return Verdict(False, stopped, (stopped,))
        if str(exc) == "no record":
            reason = "the hidden tests recorded nothing: the cell did not reach them, or something replaced them"
        else:
            reason = f"the grading record is unusable ({exc}); was the probe tampered with?"
        return Verdict(False, reason, (reason,))
    problems = []
    for case, outcome in zip(test.cases, outcomes):
        if isinstance(case, Scenario):
            problems += scenario_problems(case, outcome)
        else:
            problems += filter(None, [case_problem(case, outcome)])
    if len(outcomes) < len(test.cases):
        problems.append(f"{len(test.cases) - len(outcomes)} of {len(test.cases)} cases did not run: "
                        + (stopped or "the cell was stopped before they finished"))
    named = _named_outcomes(test, outcomes)
    problems += filter(None, [relation_problem(r, named) for r in test.relations])
    return _verdict(problems, len(test.cases) + len(test.relations))
