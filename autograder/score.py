"""Autograde's scoring stage: decide every test cell from what the kernel recorded.

    ... SandboxedExecute (autograder/execute.py) -> ScoreHiddenTests -> SanitizeSubmission -> SaveAutoGrades

Runs in the grader's own process, after the kernel is gone: the judge (autograder/scoring.py)
reads each test cell's record and checks it against the hidden test; a failed cell whose record
matches a known bug's (autograder/diagnose.py) has that mistake named in its reason. Then this
stage writes ``<notebook>.grading.json`` and puts the verdicts where nbgrader's SaveAutoGrades reads them.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from . import assignments, diagnose
from .cells import KIT_KEY, fail_cell, grade_id, is_test_cell, problems_of
from .rules import Answers
from .sanitize import escape_text
from .scoring import judge


class ScoreHiddenTests(NbGraderPreprocessor):
    """Decide every test cell from the recorded outputs, in this (clean) process.

    Each test cell's outputs are replaced by the student's own printed lines
    (stdout only) plus the verdict: an error output when it failed, so that
    nbgrader's SaveAutoGrades gives 0, and nothing else when it passed, so a
    harmless warning on stderr costs nothing.
    """

    def preprocess(self, nb, resources):
        nbg = resources["nbgrader"]
        probe_dir = Path(resources[KIT_KEY]["probe_dir"])
        try:
            verdicts = self._judge_cells(nb, nbg, probe_dir / "outputs")
        finally:  # the scratch folder SandboxedExecute made for this notebook: the records are read
            shutil.rmtree(probe_dir.parent, ignore_errors=True)
        problems = problems_of(nb)
        for problem in problems:
            self.log.warning("[autograder] %s/%s/%s: %s", nbg["student"], nbg["assignment"],
                             nbg["notebook"], problem)
        if problems:
            notes = "\n".join(f"- {escape_text(p)}" for p in problems)  # they quote the student
            nb.cells.insert(0, new_markdown_cell(f"**Autograder notes**\n\n{notes}"))
        report = {"student": nbg["student"], "assignment": nbg["assignment"],
                  "notebook": nbg["notebook"], "problems": problems, "tests": verdicts,
                  "seconds": resources[KIT_KEY].get("seconds")}  # the kernel's wall time, start to last cell
        out = Path(resources["metadata"]["path"]) / f"{nbg['notebook']}.grading.json"
        out.unlink(missing_ok=True)  # never write through a file the submission placed there
        out.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
        return nb, resources

    def _judge_cells(self, nb, nbg, records: Path) -> dict[str, dict]:
        """Judge every test cell from its record in ``records``; grade_id -> its verdict for the report."""
        tests = assignments.hidden_tests(nbg["assignment"])
        coursedir = CourseDirectory(parent=self)  # the source rules read the release's own code too
        release = Path(coursedir.format_path(coursedir.release_directory, ".", nbg["assignment"]))
        answers = Answers.of(nb, nbformat.read(release / f"{nbg['notebook']}.ipynb", as_version=4))
        bank, unusable = diagnose.load(nbg["assignment"])
        if unusable:
            self.log.warning("[autograder] feedback names no known mistakes: %s", unusable)
        verdicts = {}
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            gid = grade_id(cell)
            if gid in tests:
                error = next((f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"), "")
                verdict = judge(tests[gid], records / f"{gid}.json", answers, error)
            else:
                verdict = None
            known = bank.diagnose(gid, records / f"{gid}.json", len(tests[gid].cases)) \
                if bank and verdict and not verdict.passed else []
            if known:  # a hint in words: the score stays the verdict's
                verdict = dataclasses.replace(verdict, reason=f"{verdict.reason}; {diagnose.sentence(known, gid)}")
            _replace_outputs(cell, verdict, gid)
            verdicts[gid] = {"passed": bool(verdict and verdict.passed),
                             "points": float(cell.metadata.nbgrader.points),
                             "reason": verdict.reason if verdict else "no hidden test is registered for this cell",
                             "failures": list(verdict.failures) if verdict else [],
                             "diagnosis": [{"bug": k.bug, "why": k.why} for k in known]}
        return verdicts


def _replace_outputs(cell, verdict, gid) -> None:
    printed = "".join(o.get("text", "") for o in cell.outputs
                      if o.output_type == "stream" and o.name == "stdout")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    cell.outputs = [new_output("stream", name="stdout", text=printed[-20_000:])] if printed else []
    if verdict is None:
        fail_cell(cell, f"no hidden test is registered for '{gid}' (instructor: add it to hidden_tests.py)")
    elif not verdict.passed:
        for error in errors[:1]:  # the student's own visible-check failure, if any, without
            # its traceback: IPython prints the lines around the failure, hidden tests included
            cell.outputs.append(new_output("error", ename=error.ename, evalue=error.evalue,
                                           traceback=[f"{error.ename}: {error.evalue}"]))
        fail_cell(cell, verdict.reason, verdict.failures)
    else:
        cell.outputs.append(new_output("stream", name="stdout", text=f"Autograder: {verdict.reason}\n"))
