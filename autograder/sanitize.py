"""Nothing a student writes may script the instructor's (or the student's) browser.

The autograded notebook is rendered as HTML twice: by nbgrader's formgrader,
where the page can save grades (a script there acts as the instructor), and
in the feedback. Everything in it that the submission controls is made inert
here, before either sees it:

* outputs (every code cell's, since instructor cells call student code) keep
  only ``stream``, ``error`` and, in display data, ``text/plain`` and
  PNG/JPEG images with valid base64; HTML, JavaScript, SVG, Markdown, LaTeX,
  widget views and anything unknown are dropped, with a note saying so;
* student-written markdown (extra cells, written answers) keeps its Markdown
  and LaTeX but no HTML and no links: ``<``, ``>`` and ``&`` are escaped
  outside math and become ``\\lt``/``\\gt`` inside it, so the text holds no
  ``<`` at all; ``](`` and ``]:`` become ``]\\(`` and ``]\\:`` (``]{}(`` and
  ``]{}:`` in LaTeX), so no link or image (``javascript:``, a tracking
  pixel) can form; markdown cells of the release (the instructor's prose)
  are left alone;
* cell attachments are kept only on the instructor's prose.

Escaping is idempotent, so the preprocessor can run again on feedback, and
the autograder's own notes (built with :func:`escape_text`) pass through it
unchanged.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

import nbformat
from nbconvert.filters.markdown_mistune import MathInlineParser
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

IMAGE_TYPES = ("image/png", "image/jpeg")

# nbconvert's own math delimiters, in the order its parser tries them, so that
# what it renders as LaTeX is what is escaped as LaTeX here.
_MATH = re.compile("|".join(f"(?:{getattr(MathInlineParser, name)})" for name in (
    "BLOCK_MATH_TEX", "BLOCK_MATH_LATEX", "INLINE_MATH_TEX", "INLINE_MATH_LATEX", "LATEX_ENVIRONMENT")))
_BARE_AMPERSAND = re.compile(r"&(?!(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")
_LINK = re.compile(r"\]([(:])")  # "](" opens a link's or image's URL, "]:" defines one
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")  # ":" too: no autolinked URL


def _escape_html(text: str) -> str:
    """``<``, ``>`` and a bare ``&`` as entities; existing entities are kept (idempotent)."""
    return _BARE_AMPERSAND.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def _escape_text(text: str) -> str:
    """Markdown text with no HTML and no link (a backslash after each ``]`` that would open a URL)."""
    return _LINK.sub(r"]\\\1", _escape_html(text))


def _escape_math(tex: str) -> str:
    """LaTeX that renders the same but holds no ``<``/``>`` and no link syntax.

    MathJax reads ``\\lt``/``\\gt`` as the symbols, and ``{}`` as nothing.
    """
    return _LINK.sub(r"]{}\1", tex.replace("<", r"\lt ").replace(">", r"\gt "))


def text_markdown(source: str) -> str:
    """A student's markdown that renders as text: Markdown and LaTeX kept, HTML and links shown, never run.

    The result holds no ``<``, ``](`` or ``]:``, so whatever the renderer
    takes for text, code or math, no tag, link or image can come of it; the
    math split only decides how readable the escapes are (``&lt;`` in text,
    ``\\lt`` in LaTeX).
    """
    out, last = [], 0
    for m in _MATH.finditer(source):
        out += [_escape_text(source[last:m.start()]), _escape_math(m.group(0))]
        last = m.end()
    out.append(_escape_text(source[last:]))
    return "".join(out)


def escape_text(text: str) -> str:
    """A plain string (a problem line quoting a grade_id, say) to put in markdown, shown verbatim.

    HTML and Markdown are both escaped, and line breaks become spaces, so the
    string stays on its list item's line and cannot format, link or embed.
    """
    one_line = " ".join(str(text).splitlines())
    markdown = _MARKDOWN_PUNCTUATION.sub(r"\\\1", one_line)
    return markdown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # every "&": it is text


def _text(value) -> str | None:
    """A text field as str (nbformat allows a list of lines); None if it is neither."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return value if isinstance(value, str) else None


def _image(value) -> str | None:
    """Canonical base64 of an image field, or None if it is not valid base64."""
    text = _text(value)
    try:
        return base64.b64encode(base64.b64decode("".join(text.split()), validate=True)).decode() if text else None
    except (binascii.Error, ValueError):
        return None


def _safe_output(output) -> tuple[dict | None, list[str]]:
    """One output rebuilt from its allowed fields: (output or None, what was dropped)."""
    kind = output.get("output_type") if isinstance(output, dict) else None
    if kind == "stream":
        text = _text(output.get("text"))
        name = "stderr" if output.get("name") == "stderr" else "stdout"
        return (new_output("stream", name=name, text=text), []) if text is not None else (None, ["stream"])
    if kind == "error":
        traceback = output.get("traceback")
        lines = [str(t) for t in traceback] if isinstance(traceback, list) else []
        return new_output("error", ename=str(output.get("ename", "")), evalue=str(output.get("evalue", "")),
                          traceback=lines), []
    if kind not in ("display_data", "execute_result"):
        return None, [f"output type {str(kind)[:40]}"]
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    kept = {}
    if _text(data.get("text/plain")) is not None:
        kept["text/plain"] = _text(data["text/plain"])
    for mime in IMAGE_TYPES:
        if mime in data and (image := _image(data[mime])) is not None:
            kept[mime] = image
    dropped = sorted(str(k)[:40] for k in data if k not in kept)
    if not kept:
        return None, dropped
    if kind == "execute_result":
        count = output.get("execution_count")
        return new_output(kind, data=kept, execution_count=count if type(count) is int else None), dropped
    return new_output(kind, data=kept), dropped


def safe_outputs(outputs) -> list:
    """Outputs reduced to the allow-list; a stdout note follows each output that lost something.

    Output metadata is dropped too: nbconvert writes an image's width and
    height into the <img> tag unquoted.
    """
    result = []
    for output in outputs if isinstance(outputs, list) else []:
        kept, dropped = _safe_output(output)
        if kept is not None:
            result.append(kept)
        if dropped:
            result.append(new_output("stream", name="stdout", text=(
                f"[autograder: not shown, only text and PNG/JPEG images are: {', '.join(dropped)}]\n")))
    return result


class SanitizeSubmission(NbGraderPreprocessor):
    """Make a graded notebook safe to render: safe outputs, student markdown as text.

    Runs in autograde right after ScoreHiddenTests (so the autograded notebook
    the formgrader renders is already safe) and again in generate_feedback
    (notebooks autograded before this step existed are made safe too).

    Instructor prose is told apart by content, not metadata: a markdown cell
    is the instructor's when its source is, verbatim, a markdown cell of the
    release. Student cells have no other mark (RebuildSubmission gives extra
    cells empty metadata, as the release's prose has, and written answers keep
    the release's metadata).
    """

    def preprocess(self, nb, resources):
        prose = self._release_prose(resources["nbgrader"])
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = safe_outputs(cell.get("outputs"))
                if type(cell.get("execution_count")) is not int:
                    cell.execution_count = None
            elif cell.cell_type == "markdown" and cell.source not in prose:
                cell.source = text_markdown(cell.source)
                cell.pop("attachments", None)
        return nb, resources

    def _release_prose(self, nbg: dict) -> set[str]:
        """Sources of the release's markdown cells; empty (all markdown escaped) if it cannot be read."""
        coursedir = CourseDirectory(parent=self)
        path = Path(coursedir.format_path(coursedir.release_directory, ".", nbg["assignment"]))
        try:
            release = nbformat.read(path / f"{nbg['notebook']}.ipynb", as_version=4)
        except (OSError, ValueError) as exc:
            self.log.warning("[autograder] release of %s unreadable (%s): all markdown shown as text",
                             nbg["notebook"], exc)
            return set()
        return {c.source for c in release.cells if c.cell_type == "markdown"}
