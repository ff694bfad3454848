"""The kit's shortcuts through nbgrader's slow paths change no result.

autograder/metadata_schema.py checks nbgrader's cell-metadata schema once instead of per cell, and
autograder/mathjax.RememberingHighlight highlights each distinct code cell once per process. Both
are judged against the code they stand in for (``jsonschema.validate``, nbconvert's Highlight2HTML)
on the course's real notebooks and on metadata broken in every way nbgrader's schema forbids.
"""

from __future__ import annotations

import copy
import runpy

import jsonschema
import nbformat
import pytest
from nbconvert.filters.highlight import Highlight2HTML
from nbgrader.nbgraderformat import MetadataValidator, ValidationError, common

from autograder import mathjax, metadata_schema
from autograder.course import KIT_ROOT, Course

COURSE = Course(KIT_ROOT)
NOTEBOOKS = [nbformat.read(COURSE.source / aid / f"{nb}.ipynb", as_version=4)
             for aid in COURSE.assignments() for nb in COURSE.notebooks(aid)]
GRADED = next(cell.metadata.nbgrader for nb in NOTEBOOKS for cell in nb.cells
              if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code")


def broken(meta: dict) -> list[dict]:
    """``meta`` broken one way at a time: each key dropped, given the wrong type, and a key added."""
    variants = []
    for key, value in meta.items():
        variants.append({k: v for k, v in meta.items() if k != key})
        variants.append({**meta, key: [value]})
        variants.append({**meta, key: None})
    variants.append({**meta, "points": "three"})
    variants.append({**meta, "grade_id": 7})
    variants.append({**meta, "not_a_key": True})
    return variants


def outcome(validate, instance, schema) -> str:
    try:
        validate(instance, schema)
    except jsonschema.ValidationError as exc:
        return f"invalid: {exc.message} at {list(exc.absolute_path)}"
    return "valid"


def test_metadata_validation_agrees_with_jsonschema_on_every_cell_and_every_breakage():
    schema = MetadataValidator().schema
    cells = [cell.metadata.nbgrader for nb in NOTEBOOKS for cell in nb.cells if "nbgrader" in cell.metadata]
    assert len(cells) > 100  # every nbgrader cell of the course
    instances = cells + broken(GRADED)
    verdicts = [outcome(metadata_schema.validate, meta, schema) for meta in instances]
    assert verdicts == [outcome(jsonschema.validate, meta, schema) for meta in instances]
    assert verdicts[:len(cells)] == ["valid"] * len(cells)
    assert sum(v != "valid" for v in verdicts[len(cells):]) >= len(GRADED)  # the breakages are caught


def test_a_bad_schema_is_still_refused():
    with pytest.raises(jsonschema.SchemaError):
        metadata_schema.validate({}, {"type": "no such type"})


def test_the_course_configuration_installs_it_and_nbgrader_still_refuses_corrupted_metadata(monkeypatch):
    monkeypatch.setattr(common, "jsonschema", jsonschema)  # undone after the test
    runpy.run_path(str(KIT_ROOT / "nbgrader_config.py"), init_globals={"get_config": lambda: _Anything()})
    assert common.jsonschema.validate is metadata_schema.validate
    nb = copy.deepcopy(NOTEBOOKS[0])
    MetadataValidator().validate_nb(nb)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    cell.metadata.nbgrader["points"] = "all of them"
    with pytest.raises(ValidationError, match="all of them"):
        MetadataValidator().validate_nb(nb)


class _Anything:
    """A stand-in for traitlets' config object: any attribute, at any depth, takes any value."""

    def __getattr__(self, name):
        value = _Anything()
        object.__setattr__(self, name, value)
        return value


def test_highlighting_remembered_is_what_nbconvert_renders(monkeypatch):
    monkeypatch.setattr(mathjax, "_highlighted", {})
    rendered = []
    monkeypatch.setattr(Highlight2HTML, "__call__", _counting(Highlight2HTML.__call__, rendered))
    sources = [cell.source for nb in NOTEBOOKS[:2] for cell in nb.cells if cell.cell_type == "code"]
    cases = [(s, None, None) for s in sources] + [
        (sources[0], "python", None), (sources[0], None, {"magics_language": "bash"}), ("", None, None)]
    remembering = mathjax.RememberingHighlight(pygments_lexer="ipython3")
    plain = Highlight2HTML(pygments_lexer="ipython3")
    expected = [plain(*case) for case in cases]
    rendered.clear()
    assert [remembering(*case) for case in cases] == expected
    assert [remembering(*case) for case in cases] == expected  # the second page: all remembered
    distinct = len({(s, lang, (meta or {}).get("magics_language")) for s, lang, meta in cases})
    assert len(rendered) == distinct
    assert expected[-3] != expected[0] and expected[-2] != expected[0]  # the language is part of the key


def test_remembered_highlighting_is_bounded(monkeypatch):
    monkeypatch.setattr(mathjax, "_highlighted", {})
    monkeypatch.setattr(mathjax, "MAX_HIGHLIGHTED", 3)
    remembering = mathjax.RememberingHighlight(pygments_lexer="ipython3")
    for i in range(10):
        remembering(f"x = {i}")
    assert [key[0] for key in mathjax._highlighted] == ["x = 7", "x = 8", "x = 9"]


def _counting(call, calls: list):
    def counted(self, source, language=None, metadata=None):
        calls.append(source)
        return call(self, source, language, metadata)
    return counted
