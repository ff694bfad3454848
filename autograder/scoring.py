"""Judging a test cell in the grader's own process.

This is the only place that decides whether a hidden test passed. It reads
the record the kernel wrote (:mod:`autograder.records`), checks every case's
expectation (:mod:`autograder.cases`) and the source rules, and returns a
:class:`Verdict`. Nothing here imports or runs student code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .cases import HiddenTest
from .records import RecordError, read_record


@dataclass(frozen=True)
class Verdict:
    """passed: all checks passed. reason: one sentence for the student (and the instructor)."""

    passed: bool
    reason: str


LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
              ast.GeneratorExp)


def _nodes(source: str) -> list[ast.AST]:
    try:
        return list(ast.walk(ast.parse(source)))
    except SyntaxError:
        return []  # a syntax error already fails the cell that defines the function


def find_loop(source: str) -> str | None:
    """Describe the first Python loop or comprehension in ``source``, or None."""
    for node in _nodes(source):
        if isinstance(node, LOOP_NODES):
            return f"a {type(node).__name__} at line {node.lineno}"
    return None


def find_name(source: str, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` used in ``source`` as a name or attribute (``np.rot90``), or None."""
    for node in _nodes(source):
        used = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if used in names:
            return used
    return None


def judge(test: HiddenTest, record_path: Path, answers: dict[str, str], error: str = "") -> Verdict:
    """Check one test cell.

    test: the hidden test of the cell.
    record_path: outputs/<test_id>.json written by the kernel (may be missing).
    answers: answer-cell grade_id -> the student's source, from the notebook file.
    error: the first error the cell showed when it ran ("AssertionError: ..."), if any.
    """
    for grade_id in test.no_loops_in:
        loop = find_loop(answers.get(grade_id, ""))
        if loop:
            return Verdict(False, f"this exercise must be solved without Python loops; "
                                  f"found {loop} in your answer")
    for grade_id, names in test.banned.items():
        used = find_name(answers.get(grade_id, ""), names)
        if used:
            return Verdict(False, f"this exercise asks you to build it yourself; your answer uses {used}")
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
        problem = case.expect.check(outcome)
        if problem:
            where = f" ({case.about})" if case.about else ""
            return Verdict(False, f"{case.call}{where}: {problem}")
    return Verdict(True, f"all {len(test.cases)} checks passed")
