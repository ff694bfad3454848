"""The HTML pages a graded notebook becomes, and where a student's script could hide in them.

Two pages render what a submission wrote: the student's feedback
(``nbgrader generate_feedback``) and the formgrader's view of the autograded
notebook, which the instructor grades in (a script there acts as them).
:func:`formgrader_html` renders the latter as nbgrader's formgrader does
(its HTMLExporter and ``formgrade`` template, on the autograded notebook);
:func:`unsafe_places` lists every place in a page where a marker token would
run as script.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nbformat
from nbconvert.exporters import HTMLExporter
from nbgrader.server_extensions.formgrader import handlers
from traitlets.config import Config

from autograder import mathjax
from autograder.course import Course

#: The output mime types an autograded notebook may hold (autograder/sanitize.py's allow-list).
ALLOWED_MIME = {"text/plain", "image/png", "image/jpeg"}
SCRIPT_HOSTS = {"script", "iframe", "object", "embed", "style"}  # elements whose content or URLs can run
_INVISIBLE = re.compile(r"[\x00-\x20]")  # browsers ignore these inside a URL's scheme
#: The one script a feedback page (feedback/<student>/<assignment>/) may load by URL: the kit's
#: own copy of MathJax in feedback/mathjax/ (autograder/mathjax.py).
LOCAL_MATHJAX = f"../../{mathjax.FOLDER}/MathJax.js?config={mathjax.CONFIG}"


class _Finder(HTMLParser):
    def __init__(self, token: str):
        super().__init__(convert_charrefs=True)
        self.token, self.open, self.places, self.text = token, [], [], []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if self.token not in value:
                continue
            if tag in SCRIPT_HOSTS:
                self.places.append(f"<{tag} {name}=...>")
            elif name.startswith("on"):
                self.places.append(f"{name} attribute of <{tag}>")
            elif _INVISIBLE.sub("", value).lower().startswith(("javascript:", "vbscript:", "data:text/html")):
                self.places.append(f"{name}={value[:20]}... URL of <{tag}>")
        if tag in SCRIPT_HOSTS:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in SCRIPT_HOSTS:
            self.open.pop()

    def handle_endtag(self, tag):
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag):]

    def handle_data(self, data):
        if self.token in data:
            if self.open:
                self.places.append(f"inside <{self.open[-1]}>")
            else:
                self.text.append(data)


def readable(page: str) -> str:
    """What a student reads of an HTML page: its text without tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def unsafe_places(html: str, token: str) -> tuple[list[str], str]:
    """(where ``token`` would run as script, the page's visible text that holds it)."""
    finder = _Finder(token)
    finder.feed(html)
    finder.close()
    return finder.places, "\n".join(finder.text)


class _Sources(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.sources += [value or "" for name, value in attrs if name == "src"]


def foreign_scripts(html: str) -> list[str]:
    """The URLs of the page's <script src=...> elements other than LOCAL_MATHJAX (the allow-list)."""
    parser = _Sources()
    parser.feed(html)
    parser.close()
    return [src for src in parser.sources if src != LOCAL_MATHJAX]


def formgrader_html(nb, student: str = "student", assignment: str = "01_numpy", notebook: str = "01_numpy") -> str:
    """A notebook rendered as nbgrader's formgrader renders an autograded one for grading."""
    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": assignment, "notebook_id": notebook, "submission_id": "id", "index": 0,
                 "total": 1, "base_url": "", "student": student, "last_name": "", "first_name": "",
                 "notebook_path": f"autograded/{student}/{assignment}/{notebook}.ipynb"}
    return HTMLExporter(config=config).from_notebook_node(nb, resources=resources)[0]


def rendered_pages(course: Course, student: str, assignment: str, notebook: str) -> dict[str, str]:
    """{"feedback": the student's feedback page, "formgrader": the instructor's grading page}."""
    autograded = nbformat.read(course.root / "autograded" / student / assignment / f"{notebook}.ipynb", as_version=4)
    feedback = course.root / "feedback" / student / assignment / f"{notebook}.html"
    return {"feedback": feedback.read_text(encoding="utf-8"),
            "formgrader": formgrader_html(autograded, student, assignment, notebook)}
