"""Regenerate docs/integrity.md: every hostile submission of the catalogue, graded for real.

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
    out = ROOT / "docs" / "integrity.md"
    out.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text())


if __name__ == "__main__":
    main()
