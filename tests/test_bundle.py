"""The student zip (dist/<id>.zip, autograder/cli.py's _bundle): it ships exactly the data its notebooks read.

Which data a notebook reads is observed, not declared: each released notebook is run from the
unzipped folder alone, with helpers.verify (which every loader calls on every file before reading
it) wrapped to note the files it is asked for.
"""

from __future__ import annotations

import ast
import inspect
import zipfile

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import helpers
from autograder.cli import LOADER_DATA, _bundle, datasets_read
from autograder.course import KIT_ROOT, Course
from conftest import ASSIGNMENTS

SPY = """\
import helpers
_verified = set()
_verify = helpers.verify
def _noting(path):
    _verified.add(path)
    return _verify(path)
helpers.verify = _noting"""
REPORT = 'print("VERIFIED", sorted(_verified), helpers.__file__, sep="\\n")'
NOT_FOUND = {"DataError", "FileNotFoundError", "ModuleNotFoundError", "ImportError"}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return Course.scratch(tmp_path_factory.mktemp("bundle"), ASSIGNMENTS)


def run_unzipped(folder, notebook: str) -> tuple[list[str], str, list[str]]:
    """Run ``notebook`` of the extracted zip in ``folder``: (data files verified, helpers.__file__, error names)."""
    nb = nbformat.read(folder / f"{notebook}.ipynb", as_version=4)
    nb.cells = [new_code_cell(SPY), *nb.cells, new_code_cell(REPORT)]
    NotebookClient(nb, timeout=120, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    _, verified, helpers_file = nb.cells[-1].outputs[0]["text"].splitlines()[:3]
    errors = [o.ename for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    return ast.literal_eval(verified), helpers_file, errors


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_each_zip_holds_exactly_the_data_its_notebooks_read(course, aid, tmp_path, monkeypatch):
    monkeypatch.delenv(helpers.DATA_DIR_ENV, raising=False)  # the zip's own data/, nothing else
    with zipfile.ZipFile(_bundle(course, aid)) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path)
    folder = tmp_path / aid
    shipped = {name.removeprefix(f"{aid}/data/") for name in names if name.endswith(".gz")}
    assert f"{aid}/data/README.md" in names  # provenance and licences travel with the data
    read = set()
    for notebook in course.notebooks(aid):
        verified, helpers_file, errors = run_unzipped(folder, notebook)
        assert helpers_file == str(folder / "helpers.py")
        assert NOT_FOUND.isdisjoint(errors), errors  # nothing the notebook reads is missing
        read |= set(verified)
    # every file of each dataset a loader read (a loader verifies all the files it needs first)
    assert shipped == {path for path in helpers.SHA256 if path.split("/")[0] in {p.split("/")[0] for p in read}}


def test_loader_data_names_the_folder_each_loader_reads(tmp_path, monkeypatch):
    """LOADER_DATA agrees with helpers.py: each loader works on its folder alone and fails without it."""
    loaders = {name for name, fn in inspect.getmembers(helpers, inspect.isfunction)
               if name.startswith("load_") and "verify(" in inspect.getsource(fn)}
    assert loaders == set(LOADER_DATA)
    assert {path.split("/")[0] for path in helpers.SHA256} == set(LOADER_DATA.values())
    for loader, folder in LOADER_DATA.items():
        alone, others = tmp_path / f"{folder}-alone", tmp_path / f"{folder}-others"
        alone.mkdir(), others.mkdir()
        (alone / folder).symlink_to(KIT_ROOT / "data" / folder)
        for other in set(LOADER_DATA.values()) - {folder}:
            (others / other).symlink_to(KIT_ROOT / "data" / other)
        monkeypatch.setenv(helpers.DATA_DIR_ENV, str(alone))
        X, y = getattr(helpers, loader)()
        assert X.shape[1:] == (28, 28) and len(X) == len(y)
        monkeypatch.setenv(helpers.DATA_DIR_ENV, str(others))
        with pytest.raises(helpers.DataError, match=folder):
            getattr(helpers, loader)()


@pytest.mark.parametrize("cells, expected", [
    ([new_code_cell("import helpers as h\nX, y = h.load_fashion_mnist('test')")], ["fashion-mnist"]),
    ([new_code_cell("%matplotlib inline\nfrom helpers import load_mnist as digits")], ["mnist-10k"]),
    ([new_code_cell("X, y = load_mnist_idx('a.gz', 'b.gz')"), new_markdown_cell("`load_mnist()` is not used")], []),
    ([new_code_cell("load_mnist()"), new_code_cell("load_fashion_mnist()")], ["fashion-mnist", "mnist-10k"]),
])
def test_datasets_read_finds_every_loader_named_in_code(tmp_path, cells, expected):
    path = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    assert datasets_read([path]) == expected
