"""Autograde's first stage: read the submission and rebuild it from the release.

    ClearOutput -> (read by TolerantNotebookExporter) -> RebuildSubmission -> OverwriteKernelspec -> ...

Only what the student may change survives: the sources of answer cells and the cells they
added. Everything else (test cells with their hidden tests, locked cells, prose, nbgrader
metadata, cell tags) comes from the instructor's copy.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from .cells import grade_id, grading, is_test_cell, problems_of, source


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
        known = {grade_id(c): i for i, c in enumerate(template.cells) if grade_id(c)}
        # Ungraded cells of the release (prose, tutorial code) come from the
        # template; a student cell is an extra only if the release lacks it.
        ungraded = defaultdict(deque)
        for i, c in enumerate(template.cells):
            if not grade_id(c):
                ungraded[source(c)].append(i)
        # Each extra cell is anchored to the template cell it followed (-1: the top).
        answers, extras, anchor = {}, defaultdict(list), -1
        for cell in nb.cells if isinstance(nb.cells, list) else []:
            gid = grade_id(cell)
            if gid in known:
                anchor = known[gid]
                tcell = template.cells[anchor]
                if utils.is_solution(tcell):
                    if gid in answers:
                        problems.append(f"answer cell '{gid}' appears twice; the first one was graded")
                    answers.setdefault(gid, cell)
                elif source(cell) != source(tcell) or grading(cell) != grading(tcell):
                    problems.append(f"cell '{gid}' was edited (source or grading metadata); "
                                    f"restored from the release")
            elif not gid and ungraded[source(cell)]:
                anchor = ungraded[source(cell)].popleft()
            elif isinstance(cell, dict) and cell.get("cell_type") in ("code", "markdown"):
                if gid:
                    problems.append(f"cell with unknown grade_id '{gid}' kept as an ungraded cell")
                extras[anchor].append(self._plain(cell))

        cells = list(extras[-1])
        for i, tcell in enumerate(template.cells):
            gid = grade_id(tcell)
            cell = nbformat.from_dict(tcell)
            if gid and utils.is_solution(tcell):
                student = answers.get(gid)
                if student is None or student.get("cell_type") != tcell.cell_type:
                    problems.append(f"answer cell '{gid}' is missing (deleted, retyped or its grade_id "
                                    f"changed); graded as unanswered")
                    if not utils.is_grade(tcell):
                        cell = None  # absent: a renamed copy among the extras may stand in for it
                else:
                    cell.source = source(student)
            elif gid:
                if is_test_cell(tcell) or utils.is_locked(tcell):
                    cell.source = self._instructor_source(gb, gid, notebook_id, assignment_id, tcell)
                if not any(grade_id(c) == gid for c in nb.cells if isinstance(c, dict)):
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
        return new_code_cell(source(cell)) if cell["cell_type"] == "code" else new_markdown_cell(source(cell))

    @staticmethod
    def _instructor_source(gb, gid, notebook_id, assignment_id, tcell):
        try:
            return gb.find_source_cell(gid, notebook_id, assignment_id).source
        except MissingEntry:
            return source(tcell)
