"""The catalogue of hostile and honest hand-ins for ``collect`` (issue 8).

Each :class:`HandIn` puts one entry in a course's ``hand-ins/`` folder: an
honest student folder, zip or team repository, or a trick that tries to get
the instructor's solution graded as a student's work, to overwrite another
student, to write outside submitted/ or to stop the collection. They are all
collected in one run (:func:`collect_catalogue`), so each bad hand-in also
proves it did not stop the others. tests/test_collect.py asserts every case;
docs/integrity_table.py prints the table for docs/integrity.md.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from autograder.collect import (COLLECTED, FLAGGED, MAX_DEPTH, MAX_ENTRIES, REFUSED, UNMAPPED, Outcome,
                                collect_handins)
from autograder.course import KIT_ROOT, Course
from autograder.submissions import fill_release, solution_answers

AID = NB = "01_numpy"
NOTEBOOK = f"{NB}.ipynb"


@dataclass(frozen=True)
class Context:
    """What the builders need. honest, untouched: notebooks (bytes) a student could hand in."""

    course: Course
    honest: bytes
    untouched: bytes

    @property
    def solution(self) -> Path:
        return self.course.source_notebook(AID, NB)


@dataclass(frozen=True)
class HandIn:
    """name: the entry in hand-ins/. what: the trick (or the honest shape).
    build(entry, ctx): creates the entry (a path in hand-ins/, named ``name``).
    outcome: COLLECTED, REFUSED, FLAGGED or UNMAPPED. reason: text the reported reason must contain.
    files: what must land in submitted/<student>/01_numpy/ (collected) or flagged/ (flagged)."""

    name: str
    what: str
    build: Callable[[Path, Context], None]
    outcome: str
    reason: str = ""
    files: tuple[str, ...] = ()


def _folder(files: Callable[[Context], dict[str, bytes]]):
    """A folder hand-in holding files (path inside it -> bytes)."""
    def build(entry, ctx):
        for path, data in files(ctx).items():
            (entry / path).parent.mkdir(parents=True, exist_ok=True)
            (entry / path).write_bytes(data)
    return build


def _zipped(members: Callable[[Context], dict[str, bytes]]):
    """A zip hand-in holding members (path inside the zip -> bytes)."""
    def build(entry, ctx):
        with zipfile.ZipFile(entry, "w", zipfile.ZIP_DEFLATED) as zf:
            for path, data in members(ctx).items():
                zf.writestr(path, data)
    return build


def _linked(relative: bool):
    """A folder whose 01_numpy.ipynb is a symbolic link to the solution notebook."""
    def build(entry, ctx):
        entry.mkdir()
        to = ctx.solution
        (entry / NOTEBOOK).symlink_to(os.path.relpath(to, entry) if relative else to)
    return build


def _linked_folder(entry, ctx):
    entry.mkdir()
    (entry / AID).symlink_to(ctx.solution.parent, target_is_directory=True)


def _linked_handin(entry, ctx):
    entry.symlink_to(ctx.solution.parent, target_is_directory=True)


def _hard_link(entry, ctx):
    entry.mkdir()
    os.link(ctx.solution, entry / NOTEBOOK)


def _loops(entry, ctx):
    entry.mkdir()
    (entry / NOTEBOOK).write_bytes(ctx.honest)
    (entry / "self").symlink_to(".", target_is_directory=True)
    (entry / "a").symlink_to("b")
    (entry / "b").symlink_to("a")


def _fifo(entry, ctx):
    entry.mkdir()
    os.mkfifo(entry / NOTEBOOK)


def _deep(entry, ctx):
    folder = entry.joinpath(*["d"] * (MAX_DEPTH + 1))
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_bytes(ctx.honest)


def _stray_file(entry, ctx):
    entry.write_bytes(b"remember to grade\n")


def _not_a_zip(entry, ctx):
    entry.write_bytes(ctx.honest)


def _team_repo(ctx):
    return {".git/HEAD": b"ref: refs/heads/main\n", f".git/{NOTEBOOK}": ctx.untouched,
            "README.md": b"# team red\n", f"{AID}/.ipynb_checkpoints/{NB}-checkpoint.ipynb": ctx.untouched,
            f"{AID}/{NOTEBOOK}": ctx.honest, "data/notes.txt": b"scratch\n"}


def _zip_symlink(entry, ctx):
    info = zipfile.ZipInfo(NOTEBOOK)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16  # how zip (and Python's zipfile) store a symlink
    with zipfile.ZipFile(entry, "w") as zf:
        zf.writestr(info, os.path.relpath(ctx.solution, entry.parent))


BOMB_BYTES = 200 * 2**20


def _zip_bomb(entry, ctx):
    """200 MB of zeros, deflated to about 200 kB (written in chunks: the test stays fast)."""
    zeros = bytes(2**20)
    with zipfile.ZipFile(entry, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(NOTEBOOK, "w") as member:
            for _ in range(BOMB_BYTES // len(zeros)):
                member.write(zeros)


def _big_notebooks(entry, ctx):
    """Three notebooks of 19 MB each: every one under the per-notebook limit, together over the total."""
    with zipfile.ZipFile(entry, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in "abc":
            zf.writestr(f"{name}.ipynb", bytes(19 * 2**20))


def _crowd(entry, ctx):
    with zipfile.ZipFile(entry, "w") as zf:
        zf.writestr(NOTEBOOK, ctx.honest)
        for i in range(MAX_ENTRIES):
            zf.writestr(f"junk/{i}.txt", b"")


CATALOGUE = [
    # ---- honest hand-ins
    HandIn("ada", "a student's folder", _folder(lambda ctx: {NOTEBOOK: ctx.honest}), COLLECTED, files=(NOTEBOOK,)),
    HandIn("bob.zip", "an LMS download: one zip per student, the notebook in a folder, macOS litter",
           _zipped(lambda ctx: {f"bob/{NOTEBOOK}": ctx.honest, f"__MACOSX/bob/._{NOTEBOOK}": b"\0"}),
           COLLECTED, files=(NOTEBOOK,)),
    HandIn("team-red", "a cloned team repository: .git/, checkpoints, other files, the notebook in a folder",
           _folder(_team_repo), COLLECTED, files=(NOTEBOOK,)),
    HandIn("renamed", "one notebook under another name, one not allowed on disk ('my numpy (1).ipynb')",
           _folder(lambda ctx: {"my numpy (1).ipynb": ctx.honest}), COLLECTED,
           f"handed in as my numpy (1).ipynb: collected as {NOTEBOOK}", files=(NOTEBOOK,)),
    HandIn("victim", "a student whose notebook another hand-in tries to replace",
           _folder(lambda ctx: {NOTEBOOK: ctx.honest}), COLLECTED, files=(NOTEBOOK,)),
    # ---- links to the instructor's files
    HandIn("mallory", "01_numpy.ipynb is a relative symlink to ../../solutions/01_numpy/01_numpy.ipynb",
           _linked(relative=True), REFUSED, "a symbolic link, not followed"),
    HandIn("trudy", "01_numpy.ipynb is an absolute symlink to the solution notebook",
           _linked(relative=False), REFUSED, "a symbolic link, not followed"),
    HandIn("linked-folder", "a folder inside the hand-in is a symlink to solutions/01_numpy/",
           _linked_folder, REFUSED, f"{AID}: a symbolic link, not followed"),
    HandIn("linked-handin", "the hand-in itself is a symlink to solutions/01_numpy/",
           _linked_handin, REFUSED, "a symbolic link: not followed"),
    HandIn("hard-link", "01_numpy.ipynb is a hard link to the solution notebook",
           _hard_link, REFUSED, "has 2 hard links"),
    HandIn("loops", "an honest notebook beside a symlink loop (a -> b -> a) and a link to itself",
           _loops, COLLECTED, "a: a symbolic link, not followed", files=(NOTEBOOK,)),
    HandIn("zip-link.zip", "a zip whose 01_numpy.ipynb member is a symlink to the solution",
           _zip_symlink, REFUSED, "a symbolic link, not followed"),
    # ---- names that collide, escape or glob
    HandIn("victim.v2", "a folder whose stem is another student's id (it would replace victim's notebook)",
           _folder(lambda ctx: {NOTEBOOK: ctx.untouched}), REFUSED, "is not a valid student id"),
    HandIn("...zip", "a zip whose stem is '..' (student '..' writes outside submitted/)",
           _zipped(lambda ctx: {NOTEBOOK: ctx.untouched}), REFUSED, "'..' is not a valid student id"),
    HandIn("*.zip", "a zip whose stem is '*', a glob pattern to nbgrader (it matches every student)",
           _zipped(lambda ctx: {NOTEBOOK: ctx.untouched}), REFUSED, "'*' is not a valid student id"),
    HandIn("Carol", "a folder whose id differs from carol.zip's only in case",
           _folder(lambda ctx: {NOTEBOOK: ctx.honest}), REFUSED, "ambiguous"),
    HandIn("carol.zip", "a zip whose id differs from Carol's only in case",
           _zipped(lambda ctx: {NOTEBOOK: ctx.untouched}), REFUSED, "ambiguous"),
    HandIn("notes.txt", "a stray file in the hand-ins folder", _stray_file, REFUSED, "not a folder or a .zip file"),
    # ---- zips that write outside or inflate
    HandIn("slip.zip", "zip members ../../../escaped.ipynb and /tmp/absolute.ipynb (zip slip)",
           _zipped(lambda ctx: {f"../../../escaped-{NOTEBOOK}": ctx.honest,
                                f"/tmp/absolute-{NOTEBOOK}": ctx.honest}),
           REFUSED, "an absolute path or one with '..', not extracted"),
    HandIn("broken.zip", "a file named .zip that is not a zip (a notebook renamed)", _not_a_zip, REFUSED,
           "could not be read (BadZipFile"),
    HandIn("bomb.zip", "a 200 kB zip that inflates to 200 MB of zeros", _zip_bomb, REFUSED, "holds more than 20 MB"),
    HandIn("big.zip", "three notebooks of 19 MB each (57 MB in all)", _big_notebooks, REFUSED,
           "its notebooks hold more than 50 MB"),
    HandIn("crowd.zip", f"a zip with {MAX_ENTRIES + 1} members", _crowd, REFUSED, f"more than {MAX_ENTRIES} members"),
    HandIn("deep", f"the notebook {MAX_DEPTH + 1} folders deep", _deep, REFUSED, f"nested more than {MAX_DEPTH} deep"),
    HandIn("fifo", "01_numpy.ipynb is a named pipe (reading it would hang the collection)", _fifo, REFUSED,
           "not a regular file"),
    HandIn("twice", "two notebooks named 01_numpy.ipynb in different folders",
           _folder(lambda ctx: {f"a/{NOTEBOOK}": ctx.honest, f"b/{NOTEBOOK}": ctx.untouched}), REFUSED,
           "two notebooks named 01_numpy.ipynb"),
    HandIn("no-notebook", "a folder with no notebook", _folder(lambda ctx: {"answers.py": b"x = 1\n"}),
           REFUSED, "no notebook to collect"),
    # ---- LMS downloads without the roster that says whose they are
    HandIn("Ada Lovelace_4242_assignsubmission_file_", "a Moodle participant's folder, collected without a roster",
           _folder(lambda ctx: {NOTEBOOK: ctx.honest}), UNMAPPED, "Moodle participant 4242 (Ada Lovelace): no roster"),
    HandIn(f"lovelaceada_4242_9001_{NOTEBOOK}", "a Canvas submission file, collected without a roster",
           lambda entry, ctx: entry.write_bytes(ctx.honest), UNMAPPED, "Canvas user 4242 (lovelaceada): no roster"),
    # ---- instructor material
    HandIn("eve", "a copy of the instructor's solution notebook (solution and hidden-test markers)",
           _folder(lambda ctx: {NOTEBOOK: ctx.solution.read_bytes()}), FLAGGED,
           "contains instructor material", files=(NOTEBOOK,)),
]


def context(course: Course) -> Context:
    """Honest and untouched notebooks built from the kit's own release."""
    kit = Course(KIT_ROOT)
    full = fill_release(kit, AID, NB, solution_answers(kit, AID, NB))
    untouched = fill_release(kit, AID, NB, {})
    return Context(course, nbformat.writes(full).encode(), nbformat.writes(untouched).encode())


def solutions_only_course(dest: Path) -> Course:
    """A course folder with just solutions/01_numpy/: enough to collect into, nothing to grade with."""
    shutil.copytree(KIT_ROOT / "solutions" / AID, dest / "solutions" / AID, symlinks=True)
    return Course(dest)


def build_handins(course: Course, cases: list[HandIn]) -> Path:
    """<course>/hand-ins/ with one entry per case (so relative links reach the course's files)."""
    handins = course.root / "hand-ins"
    handins.mkdir()
    ctx = context(course)
    for case in cases:
        case.build(handins / case.name, ctx)
    return handins


def collect_catalogue(course: Course, cases: list[HandIn] = CATALOGUE) -> dict[str, Outcome]:
    """Build every case's hand-in and collect them all in one run: hand-in name -> Outcome."""
    outcomes = collect_handins(course, AID, build_handins(course, cases))
    return {o.handin: o for o in outcomes}
