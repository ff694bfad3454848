"""nbgrader configuration: this repository is the course directory.

Run any nbgrader command from the repository root (``nbgrader autograde
01_numpy``, the formgrader, ...) or use ``python -m autograder``; both read
this file, so both grade through the same hardened pipeline
(one module per stage: autograder/rebuild.py, execute.py, score.py, sanitize.py).
"""

import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)  # the autograder package lives beside this file

from autograder import metadata_schema  # noqa: E402
from autograder.course import Course, link_shared_files  # noqa: E402

metadata_schema.install()  # every command validates cell metadata; the schema is checked once

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = Course.course_id
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# helpers.py and data/ are shared by every assignment (linked, never copied);
# *.grading.json are the kit's per-notebook grading reports.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "helpers.py", "*.grading.json",
    ".matplotlib", ".ipython",
]

# ------------------------------------------------------------ generate_assignment
c.ClearSolutions.code_stub = {"python": "### START YOUR CODE ###\n\n### END YOUR CODE ###"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.GenerateAssignment.post_convert_hook = link_shared_files

# ------------------------------------------------------------ validate
# `nbgrader validate` (and JupyterLab's Validate button) runs only the visible checks. Of its
# messages only this one is a setting: nbgrader 0.9.6 prints "Success! Your notebook passes all
# the tests." when no visible check fails, and exits with status 0 whether or not one failed
# (nbgrader/validator.py, nbgrader/apps/validateapp.py; neither is configurable). So the warning
# names what validation leaves out, and points to helpers.check_notebook, which lists the checks
# that pass, says what hidden tests decide, and fails (status 1 from a shell) when a check fails.
c.Validator.failed_warning = (
    "VALIDATION FAILED ON {num_failed} CELL(S): a visible check fails, so this notebook will not "
    "get full marks. Passing every visible check is not enough either: all autograded points are "
    "decided when the notebook is graded, by hidden tests on inputs the notebook does not show. "
    "To see which checks pass, run check_notebook() from helpers.\n"
)

# ------------------------------------------------------------ autograde
# The submission is rebuilt from the release (RebuildSubmission), executed in
# a sandboxed kernel (SandboxedExecute) and its hidden tests are judged in
# this process from recorded values (ScoreHiddenTests).
c.Autograde.exporter_class = "autograder.rebuild.TolerantNotebookExporter"
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "autograder.rebuild.RebuildSubmission",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "autograder.execute.SandboxedExecute",
    "autograder.score.ScoreHiddenTests",
    "autograder.sanitize.SanitizeSubmission",  # the formgrader renders what this leaves
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# nbgrader's own Execute timeout, per cell (SandboxedExecute also caps the notebook).
c.Execute.timeout = 60

# ------------------------------------------------------------ generate_feedback
# nbgrader shows hidden tests in feedback by default; students must not see them.
# SanitizeSubmission runs here too, as a second line of defence. nbconvert's
# SanitizeHTML would bleach markdown *source* (turning $z > 0$ into broken LaTeX)
# and HTMLExporter.sanitize_html escapes headings and paragraphs; see autograder/sanitize.py.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.sanitize.SanitizeSubmission",  # again: notebooks autograded before it existed
    "nbgrader.preprocessors.GetGrades",
    "autograder.pending.NotePendingAnswers",  # "not graded yet" instead of a silent 0 / 4
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.ClearHiddenTests.enforce_metadata = False
# nbgrader's feedback page loads MathJax from a CDN (raw LaTeX offline): this exporter copies
# MathJax into feedback/mathjax/ once and points every page at it (autograder/mathjax.py).
c.GenerateFeedback.exporter_class = "autograder.mathjax.FeedbackExporter"
