"""The replay attack: a submission that computes nothing and replays what the visible checks expected.

A visible check such as ``check_close(one_hot(y, 3), expected, ...)`` runs in
the student's kernel, so it hands ``expected`` to code the student controls.
This attack wraps every ``check_*`` of helpers so that it remembers, for the
inputs the last stub received, the value the check expected (or the
exception ``check_raises`` wanted), and never fails. Every function the
release defines in an answer cell is wrapped as a stub that returns the
remembered value when it sees those inputs again, and otherwise whatever the
untouched release returns. A hidden test that only asks for the visible
inputs again would be passed without a line of real work.

:func:`replay_notebook` builds it from the untouched release of any
assignment: it needs nothing but the ``def name(`` lines of the answer cells.
"""

from __future__ import annotations

import re

import nbformat
from nbformat.v4 import new_code_cell

from autograder.course import Course

REPLAY_MARK = "# replay attack"

REPLAY_CELL = REPLAY_MARK + '''
import copy
import helpers
import numpy as _np

_memory, _last = {}, [None, None]  # inputs -> what a check expected; the last stub call's key and result


def _key(name, args, kwargs):
    def norm(value):  # equal inputs give equal keys, whatever their container or dtype
        try:
            array = _np.asarray(value, dtype=float)
            return ("array", array.shape, array.tobytes())
        except (TypeError, ValueError):
            return ("repr", repr(value))
    return (name, tuple(norm(a) for a in args), tuple(sorted((k, norm(v)) for k, v in kwargs.items())))


class _Raises:
    def __init__(self, exception):
        self.exception = exception


def _replay(name, release_stub):
    def stub(*args, **kwargs):
        key, result = _key(name, args, kwargs), None
        try:
            if key in _memory:
                kept = _memory[key]
                if isinstance(kept, _Raises):
                    raise kept.exception("replayed")
                result = copy.deepcopy(kept)
            else:
                result = release_stub(*args, **kwargs)
            return result
        finally:
            _last[:] = key, result  # set last, so a stub called inside another does not count
    return stub


def _remember(got, expected, what, *args, **kwargs):
    if callable(got):  # check_close(lambda: f(x), ...): the call is made here
        got = got()
    if got is _last[1]:  # a check of the stub's own result, not of its .shape or a rel_error
        _memory[_last[0]] = expected
    print("ok ", what)


def _remember_dtype(got, kind, what):
    if got is _last[1]:
        kept = _memory.get(_last[0], got)
        dtype = {"u": _np.uint8, "i": _np.int64, "f": _np.float64, "b": bool, "c": complex}[kind[0]]
        _memory[_last[0]] = _last[1] = _np.asarray(kept).astype(dtype)
    print("ok ", what)


def _remember_raises(exception, fn, *args, what, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception:
        pass
    _memory[_last[0]] = _Raises(exception)
    print("ok ", what)


helpers.check_close = helpers.check_equal = helpers.check_rel_error = _remember
helpers.check_dtype = _remember_dtype
helpers.check_raises = _remember_raises
'''


def answer_functions(source: str) -> list[str]:
    """The names of the functions an answer cell defines (``def name(`` at the start of a line)."""
    return re.findall(r"^def (\w+)\(", source, re.M)


def replay_notebook(course: Course, assignment: str, notebook: str) -> nbformat.NotebookNode:
    """The untouched release of ``notebook`` turned into the replay attack.

    The attack cell goes first, so the notebook's own ``from helpers import
    check_close, ...`` picks up the wrapped checks; each answer cell keeps the
    release's stub, and an extra cell right after it rebinds every function it
    defines to a replaying stub (outside the answer, so no source rule sees it).
    """
    nb = nbformat.read(course.release_notebook(assignment, notebook), as_version=4)
    cells = [new_code_cell(REPLAY_CELL)]
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            names = answer_functions(cell.source)
            if names:
                cells.append(new_code_cell("\n".join(f"{n} = _replay({n!r}, {n})" for n in names)))
    nb.cells = cells
    return nb
