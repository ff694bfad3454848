"""What the pipeline's stages share about a notebook's cells and its list of problems.

Problems found along the way (a deleted cell, a dead kernel, an unavailable sandbox) are
collected in the notebook's metadata under ``autograder.problems``; the score stage
(autograder/score.py) writes them, with every test's verdict, to ``<notebook>.grading.json``
and shows them at the top of the feedback.
"""

from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader import utils

KIT_KEY = "autograder"
NO_SANDBOX = "graded without the sandbox"  # the problem line every unsandboxed notebook gets


def problems_of(nb) -> list[str]:
    """The list of problems recorded in a notebook's metadata (created if absent)."""
    return nb.metadata.setdefault(KIT_KEY, {}).setdefault("problems", [])


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata; {} when absent or malformed (a submission may hold anything)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def grade_id(cell) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def grading(cell) -> tuple:
    """The nbgrader fields that decide how a cell is graded."""
    return tuple(nbgrader_meta(cell).get(k) for k in ("grade", "solution", "locked", "points"))


def text(src) -> str:
    """A notebook source field as one string (nbformat allows a list of lines)."""
    return "".join(src) if isinstance(src, list) else str(src)


def source(cell) -> str:
    return text(cell.get("source", ""))


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded code that is not an answer."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def fail_cell(cell, reason: str, details: tuple[str, ...] = ()) -> None:
    """Give a code cell an error output with the autograder's reason (nbgrader then scores it 0).

    details: when there are several, every failing check, one line each below the reason.
    """
    lines = [f"  - {d}" for d in details] if len(details) > 1 else []
    cell.outputs.append(new_output("error", ename="AutograderError", evalue=reason,
                                   traceback=[f"Autograder: {reason}", *lines]))
