"""Nothing a student writes can script the instructor: autograder/sanitize.py, without grading.

These tests build the hostile content directly (outputs as a kernel would
record them, markdown as a student would write it) into the real release
notebooks, run the real SanitizeSubmission and render the result with the
formgrader's exporter. The same attacks, really executed and graded, are the
xss-* cases of tests/hostile.py (asserted in tests/test_integrity.py).
"""

from __future__ import annotations

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbformat.v4 import new_markdown_cell, new_output
from traitlets.config import Config

from autograder.course import KIT_ROOT, Course
from autograder.sanitize import SanitizeSubmission, escape_text, safe_outputs, text_markdown
from autograder.submissions import fill_release
from hostile import PNG_1PX, XSS_MARKDOWN
from pages import ALLOWED_MIME, LOCAL_MATHJAX, foreign_scripts, formgrader_html, unsafe_places

TOKEN = "XSS_UNIT"
HOSTILE_MARKDOWN = XSS_MARKDOWN.replace("TOKEN", TOKEN)
TRICKY = [  # markdown that tries to end up as HTML or a link however it is parsed
    "<script>alert('XSS_UNIT')</script>", "<img src=x onerror=alert('XSS_UNIT')>",
    "[x](javascript:alert('XSS_UNIT'))", "[x](jav&#97;script:alert('XSS_UNIT'))",
    "[r]: javascript:alert('XSS_UNIT')\n\n[y][r]", "<javascript:alert('XSS_UNIT')>",
    "`$` <iframe src=javascript:alert('XSS_UNIT')></iframe> `$`",
    "$[$ t](javascript:alert('XSS_UNIT'))", "$$<script>alert('XSS_UNIT')</script>$$",
    "```html\n<script>alert('XSS_UNIT')</script>\n```", "&lt;script&gt;alert('XSS_UNIT')&lt;/script&gt;",
    "\\\\[ <script>alert('XSS_UNIT')</script> \\\\]", "<sc<script>ript>alert('XSS_UNIT')</script>",
]


def hostile_outputs() -> list:
    """What a student's display() calls leave in a cell (see hostile.XSS_DISPLAYS)."""
    script = f"<script>alert('{TOKEN}')</script>"
    return [
        new_output("display_data", data={"text/html": script, "text/plain": "<HTML object>"}),
        new_output("display_data", data={"application/javascript": f"alert('{TOKEN}')"}),
        new_output("display_data", data={"image/svg+xml": f"<svg>{script}</svg>"}),
        new_output("execute_result", execution_count=3, data={"text/markdown": f"<iframe src=x>{TOKEN}</iframe>"}),
        new_output("display_data", data={"text/latex": f"$x${script}", "text/x-unknown": TOKEN}),
        new_output("display_data", data={"image/png": f"x\" onerror=\"alert('{TOKEN}')"}),
        new_output("display_data", data={"image/png": PNG_1PX},
                   metadata={"image/png": {"width": f"1 onerror=alert('{TOKEN}')"}}),
        new_output("stream", name="stdout", text=f"printed {script}\n"),
        new_output("error", ename="ValueError", evalue=script, traceback=[script]),
    ]


def hostile_notebook(assignment: str):
    """The release with hostile outputs in every code cell, and an extra markdown cell."""
    course = Course(KIT_ROOT)
    nb = fill_release(course, assignment, assignment, {})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = hostile_outputs()
    nb.cells.insert(1, new_markdown_cell(HOSTILE_MARKDOWN))
    return nb


def sanitize(nb, assignment: str):
    config = Config()
    config.CourseDirectory.root = str(KIT_ROOT)
    config.CourseDirectory.release_directory = "notebooks"
    resources = {"nbgrader": {"assignment": assignment, "notebook": assignment}}
    return SanitizeSubmission(config=config).preprocess(nb, resources)[0]


def test_unsanitised_pages_run_the_student_s_script():
    """The attacks are real and the check sees them: without the sanitiser, the token would run."""
    places, _ = unsafe_places(formgrader_html(hostile_notebook("01_numpy")), TOKEN)
    assert {"inside <script>", "inside <iframe>", "onerror attribute of <img>"} <= set(places), places
    assert any("javascript:" in p for p in places), places


def test_sanitised_pages_show_the_attack_as_text_only():
    nb = sanitize(hostile_notebook("01_numpy"), "01_numpy")
    places, text = unsafe_places(formgrader_html(nb), TOKEN)
    assert places == []
    assert f"<script>alert(\"{TOKEN}\")</script>" in text  # the student's markdown, readable
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert {k for o in outputs for k in o.get("data", {})} == ALLOWED_MIME - {"image/jpeg"}
    assert all(not o.get("metadata") for o in outputs if "data" in o)


def test_written_answers_keep_their_latex_and_lose_their_html():
    """A markdown answer cell (assignment 02) is the student's: escaped; the prose around it is not."""
    honest = r"Since $\sigma(-z) = 1 - \sigma(z)$ and $0 < \sigma(z) < 1$, **done** & `x[i]` works."
    nb = fill_release(Course(KIT_ROOT), "02_activations", "02_activations",
                      {"written_identities": honest + "\n\n" + HOSTILE_MARKDOWN})
    prose_before = [c.source for c in nb.cells if c.cell_type == "markdown" and "nbgrader" not in c.metadata]
    nb = sanitize(nb, "02_activations")
    html = formgrader_html(nb, assignment="02_activations", notebook="02_activations")
    places, text = unsafe_places(html, TOKEN)
    assert places == []
    assert r"$\sigma(-z) = 1 - \sigma(z)$" in html and r"$0 \lt  \sigma(z) \lt  1$" in html
    assert "<strong>done</strong> &amp; <code>x[i]</code> works." in html
    assert [c.source for c in nb.cells if c.cell_type == "markdown" and "nbgrader" not in c.metadata] == prose_before


@pytest.mark.parametrize("source", TRICKY)
def test_student_markdown_can_make_no_tag_or_link(source):
    safe = text_markdown(source)
    assert text_markdown(safe) == safe  # idempotent: feedback runs the sanitiser again
    assert "<" not in safe and "](" not in safe and "]:" not in safe
    html = markdown2html_mistune(safe)
    assert unsafe_places(html, TOKEN)[0] == [] and "<a " not in html and "<img" not in html, html


@pytest.mark.parametrize("line", ["cell with unknown grade_id 'x<script>alert(1)</script>' kept",
                                  "**b** [l](javascript:1) ![i](http://x/p.png) $x$ `c` &amp; &#60; # h",
                                  "two\nlines <b>"])
def test_a_problem_line_is_shown_verbatim(line):
    """Autograder notes quote the student: what renders is exactly the string, on one line."""
    html = markdown2html_mistune("- " + escape_text(line))
    _, text = unsafe_places(html, "")  # token "": all the visible text
    assert text.strip() == " ".join(line.splitlines())
    assert html.count("<") == 4  # <ul><li></li></ul>: nothing else is markup
    assert text_markdown(escape_text(line)) == escape_text(line)  # the sanitiser leaves the notes alone


def test_outputs_keep_only_text_and_valid_images():
    bad_png = new_output("display_data", data={"image/png": "@@@", "text/plain": "fig"})
    weird = [{"output_type": "update_display_data"}, "not a dict", {"output_type": "stream", "name": "x",
                                                                     "text": ["a", "b"]}]
    kept = safe_outputs(hostile_outputs() + [bad_png] + weird)
    assert [o.output_type for o in kept].count("error") == 1
    assert {k for o in kept for k in o.get("data", {})} == {"text/plain", "image/png"}
    assert [o.data["image/png"] for o in kept if "image/png" in o.get("data", {})] == [PNG_1PX]
    assert {"name": "stdout", "output_type": "stream", "text": "ab"} in kept
    notes = [o.text for o in kept if o.output_type == "stream" and o.text.startswith("[autograder: not shown")]
    assert len(notes) == 9 and "text/html" in notes[0]


def test_the_only_script_a_feedback_page_may_load_is_the_kit_s_mathjax():
    """The allow-list of tests/test_offline_math.py: exactly the local MathJax, no other URL, however close."""
    cdn = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX-AMS_CHTML-full,Safe"
    others = [cdn, LOCAL_MATHJAX.replace("../../", "../"), LOCAL_MATHJAX.split("?")[0], "mathjax/x.js", ""]
    page = "".join(f'<script src="{src}"> </script>' for src in [LOCAL_MATHJAX, *others])
    assert foreign_scripts(page) == others
    assert foreign_scripts(f'<script src="{LOCAL_MATHJAX}"></script><script>inline()</script>') == []
