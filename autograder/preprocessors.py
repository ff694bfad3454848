"""The kit's stages in nbgrader's pipeline (configured in nbgrader_config.py).

Autograde, sanitising a submission:
    ClearOutput -> RebuildSubmission -> OverwriteKernelspec -> CheckCellMetadata
Autograde, grading it:
    SandboxedExecute (autograder/execute.py) -> ScoreHiddenTests -> ... nbgrader's SaveAutoGrades
Feedback:
    ClearHiddenTests (nbgrader's) -> GetGrades -> CSS

Because they live in the course's nbgrader configuration, plain
``nbgrader autograde``, the formgrader and ``python -m autograder`` all grade
the same way.

Problems found along the way (a deleted cell, a dead kernel) are collected in
the notebook's metadata under ``autograder.problems``; ScoreHiddenTests writes
them, with every test's verdict, to ``<notebook>.grading.json`` beside the
autograded notebook, and shows them to the student at the top of the feedback.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict, deque
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from . import assignments
from .rules import Answers
from .sanitize import escape_text
from .scoring import judge

KIT_KEY = "autograder"
NO_SANDBOX = "graded without the sandbox"  # the problem line every unsandboxed notebook gets


def problems_of(nb) -> list[str]:
    """The list of problems recorded in a notebook's metadata (created if absent)."""
    return nb.metadata.setdefault(KIT_KEY, {}).setdefault("problems", [])


def _nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata; {} when absent or malformed (a submission may hold anything)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def _grade_id(cell) -> str | None:
    gid = _nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def _grading(cell) -> tuple:
    """The nbgrader fields that decide how a cell is graded."""
    return tuple(_nbgrader_meta(cell).get(k) for k in ("grade", "solution", "locked", "points"))


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded code that is not an answer."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


class TolerantNotebookExporter(NotebookExporter):
    """Reads a submission that is not a readable notebook as an empty one.

    The empty notebook is then rebuilt from the release by RebuildSubmission,
    so the student gets 0 points and a reason instead of the whole grading
    run failing for them.
    """

    def from_file(self, file_stream, resources=None, **kw):
        try:
            nb = nbformat.read(file_stream, as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("it has no list of cells")
        except Exception as exc:  # any unreadable file: broken JSON, binary, wrong schema
            nb = new_notebook()
            problems_of(nb).append(f"the submitted file is not a readable notebook ({type(exc).__name__}: "
                                   f"{str(exc)[:120]}); graded as an empty submission")
        return self.from_notebook_node(nb, resources=resources, **kw)


class RebuildSubmission(NbGraderPreprocessor):
    """Rebuild the submission from the release, keeping only what the student may change.

    Test cells, locked cells, prose and all nbgrader metadata come from the
    instructor's copy (test cells from the gradebook, with their hidden
    tests); the student contributes the sources of answer cells (matched by
    grade_id) and any extra cells they added, which keep their place. So a
    deleted, edited, reordered or renamed test cell is simply restored, and
    every such change becomes one line in the problems list.
    """

    def preprocess(self, nb, resources):
        nbg = resources["nbgrader"]
        coursedir = CourseDirectory(parent=self)
        release = Path(coursedir.format_path(coursedir.release_directory, ".", nbg["assignment"]))
        template = nbformat.read(release / f"{nbg['notebook']}.ipynb", as_version=4)
        problems = list(problems_of(nb))
        spec = nb.metadata.get("kernelspec") if isinstance(nb.metadata, dict) else None
        asked = spec.get("name") if isinstance(spec, dict) else None
        if asked and asked != template.metadata.kernelspec.name:
            problems.append(f"the notebook asks for kernel {asked!r}; graded with "
                            f"{template.metadata.kernelspec.name!r} as released")
        with Gradebook(nbg["db_url"]) as gb:
            rebuilt = self._rebuild(template, nb, problems, gb, nbg["notebook"], nbg["assignment"])
        problems_of(rebuilt)[:] = problems
        return rebuilt, resources

    def _rebuild(self, template, nb, problems, gb, notebook_id, assignment_id):
        known = {_grade_id(c): i for i, c in enumerate(template.cells) if _grade_id(c)}
        # Ungraded cells of the release (prose, tutorial code) come from the
        # template; a student cell is an extra only if the release lacks it.
        ungraded = defaultdict(deque)
        for i, c in enumerate(template.cells):
            if not _grade_id(c):
                ungraded[_source(c)].append(i)
        # Each extra cell is anchored to the template cell it followed (-1: the top).
        answers, extras, anchor = {}, defaultdict(list), -1
        for cell in nb.cells if isinstance(nb.cells, list) else []:
            gid = _grade_id(cell)
            if gid in known:
                anchor = known[gid]
                tcell = template.cells[anchor]
                if utils.is_solution(tcell):
                    if gid in answers:
                        problems.append(f"answer cell '{gid}' appears twice; the first one was graded")
                    answers.setdefault(gid, cell)
                elif _source(cell) != _source(tcell) or _grading(cell) != _grading(tcell):
                    problems.append(f"cell '{gid}' was edited (source or grading metadata); "
                                    f"restored from the release")
            elif not gid and ungraded[_source(cell)]:
                anchor = ungraded[_source(cell)].popleft()
            elif isinstance(cell, dict) and cell.get("cell_type") in ("code", "markdown"):
                if gid:
                    problems.append(f"cell with unknown grade_id '{gid}' kept as an ungraded cell")
                extras[anchor].append(self._plain(cell))

        cells = list(extras[-1])
        for i, tcell in enumerate(template.cells):
            gid = _grade_id(tcell)
            cell = nbformat.from_dict(tcell)
            if gid and utils.is_solution(tcell):
                student = answers.get(gid)
                if student is None or student.get("cell_type") != tcell.cell_type:
                    problems.append(f"answer cell '{gid}' is missing (deleted, retyped or its grade_id "
                                    f"changed); graded as unanswered")
                    if not utils.is_grade(tcell):
                        cell = None  # absent: a renamed copy among the extras may stand in for it
                else:
                    cell.source = _source(student)
            elif gid:
                if is_test_cell(tcell) or utils.is_locked(tcell):
                    cell.source = self._instructor_source(gb, gid, notebook_id, assignment_id, tcell)
                if not any(_grade_id(c) == gid for c in nb.cells if isinstance(c, dict)):
                    problems.append(f"cell '{gid}' was missing from the submission; restored")
            if cell is not None:
                cells.append(cell)
            cells.extend(extras[i])
        rebuilt = nbformat.from_dict(template)
        rebuilt.cells = cells
        for cell in rebuilt.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        return rebuilt

    @staticmethod
    def _plain(cell):
        """A student's own cell, with any nbgrader metadata it claimed removed."""
        return new_code_cell(_source(cell)) if cell["cell_type"] == "code" else new_markdown_cell(_source(cell))

    @staticmethod
    def _instructor_source(gb, gid, notebook_id, assignment_id, tcell):
        try:
            return gb.find_source_cell(gid, notebook_id, assignment_id).source
        except MissingEntry:
            return _source(tcell)


def fail_cell(cell, reason: str, details: tuple[str, ...] = ()) -> None:
    """Give a code cell an error output with the autograder's reason (nbgrader then scores it 0).

    details: when there are several, every failing check, one line each below the reason.
    """
    lines = [f"  - {d}" for d in details] if len(details) > 1 else []
    cell.outputs.append(new_output("error", ename="AutograderError", evalue=reason,
                                   traceback=[f"Autograder: {reason}", *lines]))


class ScoreHiddenTests(NbGraderPreprocessor):
    """Decide every test cell from the recorded outputs, in this (clean) process.

    Each test cell's outputs are replaced by the student's own printed lines
    (stdout only) plus the verdict: an error output when it failed, so that
    nbgrader's SaveAutoGrades gives 0, and nothing else when it passed, so a
    harmless warning on stderr costs nothing.
    """

    def preprocess(self, nb, resources):
        nbg = resources["nbgrader"]
        tests = assignments.hidden_tests(nbg["assignment"])
        probe_dir = Path(resources[KIT_KEY]["probe_dir"])
        coursedir = CourseDirectory(parent=self)  # the source rules read the release's own code too
        release = Path(coursedir.format_path(coursedir.release_directory, ".", nbg["assignment"]))
        answers = Answers.of(nb, nbformat.read(release / f"{nbg['notebook']}.ipynb", as_version=4))
        verdicts = {}
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            gid = _grade_id(cell)
            if gid in tests:
                error = next((f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"), "")
                verdict = judge(tests[gid], probe_dir / "outputs" / f"{gid}.json", answers, error)
            else:
                verdict = None
            _replace_outputs(cell, verdict, gid)
            verdicts[gid] = {"passed": bool(verdict and verdict.passed),
                             "points": float(cell.metadata.nbgrader.points),
                             "reason": verdict.reason if verdict else "no hidden test is registered for this cell",
                             "failures": list(verdict.failures) if verdict else []}
        shutil.rmtree(probe_dir.parent, ignore_errors=True)
        problems = problems_of(nb)
        for problem in problems:
            self.log.warning("[autograder] %s/%s/%s: %s", nbg["student"], nbg["assignment"],
                             nbg["notebook"], problem)
        if problems:
            notes = "\n".join(f"- {escape_text(p)}" for p in problems)  # they quote the student
            nb.cells.insert(0, new_markdown_cell(f"**Autograder notes**\n\n{notes}"))
        report = {"student": nbg["student"], "assignment": nbg["assignment"],
                  "notebook": nbg["notebook"], "problems": problems, "tests": verdicts}
        out = Path(resources["metadata"]["path"]) / f"{nbg['notebook']}.grading.json"
        out.unlink(missing_ok=True)  # never write through a file the submission placed there
        out.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
        return nb, resources


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
