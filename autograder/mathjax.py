"""LaTeX in feedback pages rendered offline: MathJax from the course's own copy, not a CDN.

nbgrader's feedback template calls nbconvert's ``mathjax()`` macro without an argument, so every
page loads MathJax 2.7 from cdnjs whatever ``HTMLExporter.mathjax_url`` says, and shows raw
``$\\sigma(z)$`` offline. :class:`FeedbackExporter` (``GenerateFeedback.exporter_class`` in
nbgrader_config.py) copies the MathJax 2.7 that the jupyter-server-mathjax package ships into
``feedback/mathjax/`` once, and points each page at it by a relative path, so the pages render
math from the feedback folder alone (for a student: their folder and ``feedback/mathjax/``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import jupyter_server_mathjax
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

SOURCE = Path(jupyter_server_mathjax.__file__).parent / "static"  # MathJax 2.7.9, as nbconvert's template expects
FOLDER = "mathjax"  # under the feedback directory
#: Loaded in this order: the combined configuration the package ships (TeX and MathML in, HTML-CSS
#: out), Safe mode (no links or styles from the math: feedback quotes students' markdown), then
#: LOCAL_CONFIG. Each name is a file config/<name>.js of the copy.
CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe,local/feedback"
#: The package ships only the STIX-Web fonts (those Jupyter's own pages configure), while MathJax's
#: HTML-CSS output looks for its TeX fonts by default; without this it would fail to load them.
LOCAL_CONFIG = """\
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});
MathJax.Ajax.loadComplete("[MathJax]/config/local/feedback.js");
"""
LOCAL_PATH = Path("config", "local", "feedback.js")
_CDN_SCRIPT = re.compile(r'<script src="https?://[^"]*mathjax[^"]*">', re.IGNORECASE)
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\salt=)", re.IGNORECASE)
NO_ALT = "No description has been provided for this image"  # nbconvert's words


def install(feedback_root: Path) -> Path:
    """``feedback_root/mathjax/``: a copy of SOURCE plus LOCAL_CONFIG, made the first time (and again if
    either changed); a copy cut short is never mistaken for a whole one (it is renamed into place)."""
    dest = feedback_root / FOLDER
    if _same(dest / "MathJax.js", (SOURCE / "MathJax.js").read_text("utf-8")) and _same(dest / LOCAL_PATH, LOCAL_CONFIG):
        return dest
    partial = dest.with_name(f"{FOLDER}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(SOURCE, partial)
    (partial / LOCAL_PATH).parent.mkdir()
    (partial / LOCAL_PATH).write_text(LOCAL_CONFIG, "utf-8")
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)
    return dest


def _same(path: Path, text: str) -> bool:
    return path.is_file() and path.read_text("utf-8") == text


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback page (its HTMLExporter and ``feedback`` template), with MathJax served
    from ``feedback/mathjax/`` instead of a CDN. Made by the GenerateFeedback converter (its parent)."""

    def from_notebook_node(self, nb, resources=None, **kw):
        html, resources = self._page(nb, resources, **kw)
        coursedir = self.parent.coursedir
        student, assignment = resources["nbgrader"]["student"], resources["nbgrader"]["assignment"]
        page_dir = coursedir.format_path(coursedir.feedback_directory, student, assignment)
        loader = install(Path(coursedir.root) / coursedir.feedback_directory) / "MathJax.js"
        src = f"{Path(os.path.relpath(loader, page_dir)).as_posix()}?config={CONFIG}"
        return _CDN_SCRIPT.sub(f'<script src="{src}">', html), resources

    def _page(self, nb, resources=None, **kw):
        """HTMLExporter.from_notebook_node without its last pass, which parses the page again with
        BeautifulSoup and writes it back out: 60 % of the time of a feedback page, to give images
        without one an alt text and to make the lab template's cells focusable (this template,
        classic, has none). Images get the same alt text here, from the page as rendered."""
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        resources = self._init_resources(resources)
        self.register_filter("highlight_code",
                             self.filters.get("highlight_code", RememberingHighlight(pygments_lexer=lexer, parent=self)))
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _IMG_WITHOUT_ALT.sub(f'<img alt="{NO_ALT}"', html), resources


class RememberingHighlight(Highlight2HTML):
    """nbconvert's code highlighting, remembering what it rendered for the process's later pages.

    Most code cells of a class's pages are the release's, unchanged: highlighting them once,
    not once a student, took a page of 02 from 0.30 to 0.20 s (feedback for 10 students).
    Pygments reads only the source, the language, the cell's ``magics_language`` (nbconvert's
    _pygments_highlight) and the formatter's options: the key of what is remembered.
    """

    def __call__(self, source, language=None, metadata=None):
        key = (source, language or self.pygments_lexer, (metadata or {}).get("magics_language"),
               json.dumps(self.extra_formatter_options, sort_keys=True, default=str))
        html = _highlighted.get(key)
        if html is None:
            html = super().__call__(source, language, metadata)
            if len(_highlighted) >= MAX_HIGHLIGHTED:
                del _highlighted[next(iter(_highlighted))]  # the oldest
            _highlighted[key] = html
        return html


MAX_HIGHLIGHTED = 8192  # a class's distinct cells, a few kB each: not every cell ever seen
_highlighted: dict[tuple, str] = {}
