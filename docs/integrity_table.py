"""Regenerate docs/integrity.md: every hostile submission of the catalogue, graded for real,
and every hostile hand-in of tests/hostile_handins.py, collected for real.

    .venv/bin/python docs/integrity_table.py      (about two minutes)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from autograder.report import grade_rows  # noqa: E402
from hostile import AID, CATALOGUE, FULL, grade_catalogue  # noqa: E402
from hostile_handins import CATALOGUE as HANDINS  # noqa: E402
from hostile_handins import collect_catalogue, solutions_only_course  # noqa: E402

HEADER = f"""# Grading integrity: what hostile submissions get

Each row is a real notebook handed in for assignment {AID} and graded by the real
`nbgrader autograde` with this kit's configuration (sandboxed kernel, hidden tests judged
outside it). "untouched" tricks start from the release with no answers, so every point they
got would be stolen; "full" tricks start from the correct solution, so they must keep the points
of the work that ran. The reason is the first line the instructor's report and the
student's feedback show. The assertions behind this table are in `tests/test_integrity.py`;
the cases in `tests/hostile.py`. Regenerate with `.venv/bin/python docs/integrity_table.py`.

| submission | trick | built on | points | reason shown |
|---|---|---|---|---|
"""

COLLECT_HEADER = f"""
## Collecting hand-ins

Before anything is graded, `python -m autograder collect {AID} hand-ins/` (`autograder/collect.py`)
copies each hand-in's notebooks into `submitted/<student>/{AID}/`. Each row is one entry of a
hand-ins folder, all collected in one real run: honest folders, zips and team repositories, and
tricks that try to get the instructor's solution graded, to overwrite another student, to write
outside `submitted/` or to stop the collection. "flagged" hand-ins hold instructor material and go
to `flagged/<student>/{AID}/`, not to grading. The assertions are in `tests/test_collect.py`; the
cases in `tests/hostile_handins.py`.

| hand-in | trick | outcome | reason |
|---|---|---|---|
"""


def collect_section(tmp: Path) -> str:
    """The "Collecting hand-ins" section: the hand-in catalogue collected in a course made in ``tmp``."""
    outcomes = collect_catalogue(solutions_only_course(tmp))
    lines = [f"| `{case.name}` | {case.what} | {outcomes[case.name].status} | "
             f"{(outcomes[case.name].reason or '-').replace('|', '/')} |" for case in HANDINS]
    return COLLECT_HEADER + "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = grade_catalogue(Path(tmp))
        rows = {row.student: row for row in grade_rows(course, AID)}
    lines = []
    for case in CATALOGUE:
        row = rows[case.name]
        reason = (row.problems + row.failed + ["(none: graded normally)"])[0]
        lines.append(f"| `{case.name}` | {case.what} | {case.base} | {row.score:g} / {FULL:g} | "
                     f"{reason.replace('|', '/')} |")
    with tempfile.TemporaryDirectory() as tmp:
        collecting = collect_section(Path(tmp))
    out = ROOT / "docs" / "integrity.md"
    out.write_text(HEADER + "\n".join(lines) + "\n" + collecting, encoding="utf-8")
    print(out.read_text())


if __name__ == "__main__":
    main()
