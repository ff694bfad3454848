"""Feedback pages render LaTeX offline: MathJax comes from feedback/mathjax/ (autograder/mathjax.py), not a CDN."""

from __future__ import annotations

import re
from pathlib import Path

from autograder import mathjax
from pages import LOCAL_MATHJAX, foreign_scripts

AID = "02_activations"  # the assignment with the most LaTeX


def test_feedback_pages_load_mathjax_from_the_course_s_own_copy(graded):
    g = graded(AID)
    with g.feedback() as feedback:
        pages = sorted(feedback.glob(f"*/{AID}/*.html"))
        assert len(pages) >= 3
        for page in pages:
            html = page.read_text(encoding="utf-8")
            assert r"\sigma" in html  # there is math to render
            assert not re.search(r"https?://[^\s\"'<>]*mathjax", html, re.IGNORECASE), page
            assert foreign_scripts(html) == [] and f'<script src="{LOCAL_MATHJAX}">' in html, page
            loader, config = LOCAL_MATHJAX.split("?config=")
            local = (page.parent / loader).resolve()
            assert local.is_file() and local.read_bytes() == (mathjax.SOURCE / "MathJax.js").read_bytes()
            for name in config.split(","):  # what MathJax.js loads next, from its own folder
                assert (local.parent / "config" / f"{name}.js").is_file(), name


def test_the_copy_is_made_once_and_repaired_when_it_differs(tmp_path):
    dest = mathjax.install(tmp_path)
    files = sorted(p.relative_to(dest) for p in dest.rglob("*") if p.is_file())
    assert files == sorted([mathjax.LOCAL_PATH, *(p.relative_to(mathjax.SOURCE) for p in mathjax.SOURCE.rglob("*")
                                                  if p.is_file())])
    assert (dest / mathjax.LOCAL_PATH).read_text() == mathjax.LOCAL_CONFIG  # the fonts the package ships
    marker = dest / "marker"
    for damaged in ("MathJax.js", mathjax.LOCAL_PATH):
        marker.write_text("kept")
        assert mathjax.install(tmp_path) == dest and marker.exists()  # whole already: not copied again
        (dest / damaged).write_text("cut short")
        mathjax.install(tmp_path)
        assert not marker.exists(), damaged
    assert (dest / "MathJax.js").read_bytes() == (mathjax.SOURCE / "MathJax.js").read_bytes()
    assert [p.name for p in Path(tmp_path).iterdir()] == [mathjax.FOLDER]  # no partial copy left behind
