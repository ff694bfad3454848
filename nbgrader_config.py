"""nbgrader configuration: this repository is the course directory.

Run any nbgrader command from the repository root (``nbgrader autograde
01_numpy``, the formgrader, ...) or use ``python -m autograder``; both read
this file, so both grade through the same hardened pipeline
(see autograder/preprocessors.py and autograder/execute.py).
"""

import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)  # the autograder package lives beside this file

from autograder.course import Course, link_shared_files  # noqa: E402

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

# ------------------------------------------------------------ autograde
# The submission is rebuilt from the release (RebuildSubmission), executed in
# a sandboxed kernel (SandboxedExecute) and its hidden tests are judged in
# this process from recorded values (ScoreHiddenTests).
c.Autograde.exporter_class = "autograder.preprocessors.TolerantNotebookExporter"
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "autograder.preprocessors.RebuildSubmission",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "autograder.execute.SandboxedExecute",
    "autograder.preprocessors.ScoreHiddenTests",
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
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.ClearHiddenTests.enforce_metadata = False
