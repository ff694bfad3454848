"""LMS downloads and the roster (autograder/lms.py, autograder/collect.py).

Realistic Moodle and Canvas downloads, a folder of team repositories and a
roster are built in a scratch folder and collected for real; the tests check
whom each hand-in credits, what is reported instead of dropped, the note of a
renamed notebook and the names in the nbgrader gradebook. No grading: the
course has just the solutions (tests/hostile_handins.py).
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile

import pytest
from nbgrader.api import Gradebook

from autograder.collect import COLLECTED, FLAGGED, MISSING, REFUSED, UNMAPPED, collect_handins, format_report
from autograder.course import Course
from autograder.lms import LmsName, Roster, RosterError, parse_lms_name, register_students
from hostile_handins import AID, NOTEBOOK, context, solutions_only_course

ROSTER = """student_id,first_name,last_name,email,moodle_id,canvas_id,team
ada,Ada,Lovelace,ada@uni.example,101,5001,
grace,Grace,Hopper,grace@uni.example,102,5002,
alan,Alan,Turing,alan@uni.example,103,5003,red
barbara,Barbara,Liskov,barbara@uni.example,106,5006,red
dorothy,Dorothy,Vaughan,dorothy@uni.example,,5005,
katherine,Katherine,Johnson,katherine@uni.example,104,,
margaret,Margaret,Hamilton,margaret@uni.example,107,5007,
"""
NAMES = {"ada": ("Ada", "Lovelace"), "grace": ("Grace", "Hopper"), "alan": ("Alan", "Turing"),
         "barbara": ("Barbara", "Liskov"), "dorothy": ("Dorothy", "Vaughan"),
         "katherine": ("Katherine", "Johnson"), "margaret": ("Margaret", "Hamilton")}


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory):
    """A new gradebook, made once: nbgrader stamps each new one by running alembic (seconds), which
    register_students finds also when the venv is not activated (pytest run as .venv/bin/pytest)."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    register_students(f"sqlite:///{path}", Course.course_id, Roster([]))
    return path


@pytest.fixture
def setup(tmp_path, empty_gradebook):
    """(course, roster path, honest notebook bytes, untouched notebook bytes); the course has an
    empty gradebook, as after `release`."""
    course = solutions_only_course(tmp_path / "course")
    shutil.copy(empty_gradebook, course.root / "gradebook.db")
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    ctx = context(course)
    return course, roster, ctx.honest, ctx.untouched


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _by_label(outcomes):
    return {o.handin: o for o in outcomes if o.status != MISSING}


def _submitted(course, student):
    folder = course.root / "submitted" / student / AID
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else {}


# ---------------------------------------------------------------- names and roster


@pytest.mark.parametrize("name, folder, expected", [
    ("Ada Lovelace_101_assignsubmission_file_", True, LmsName("moodle", "Ada Lovelace", "101", "")),
    (f"Ada Lovelace_101_assignsubmission_file_{NOTEBOOK}", False,
     LmsName("moodle", "Ada Lovelace", "101", NOTEBOOK)),
    ("Team Red-Alan Turing_103_assignsubmission_file_", True, LmsName("moodle", "Team Red-Alan Turing", "103", "")),
    (f"lovelaceada_5001_70001_{NOTEBOOK}", False, LmsName("canvas", "lovelaceada", "5001", NOTEBOOK)),
    ("lovelace ada_late_5001_70001_01_numpy-1.ipynb", False,
     LmsName("canvas", "lovelace ada", "5001", "01_numpy-1.ipynb", late=True)),
    ("lovelaceada_5001_70001_x", True, None),  # Canvas names files, never folders
    ("Ada Lovelace_101_assignsubmission_file_", False, None),  # a Moodle file has the upload's name
    ("ada", True, None), ("bob.zip", False, None),
])
def test_lms_names_are_read_as_each_lms_writes_them(name, folder, expected):
    assert parse_lms_name(name, folder) == expected


@pytest.mark.parametrize("text, problem", [
    ("id,first_name\nada,Ada\n", "the header must name student_id"),
    ("student_id,firstname\nada,Ada\n", "unknown: firstname"),
    ("student_id\nada.b\n", "line 2: 'ada.b' is not a valid student id"),
    ("student_id\nada\nAda\n", "'ada' appears more than once"),
    ("student_id,moodle_id\nada,7\nbob,7\n", "moodle_id 7 is given to several students"),
    ("student_id,team\nada,bob\nbob,\n", "team 'bob' is also a student_id"),
    ("student_id,email\nada,a@x,extra\n", "line 2: more fields than columns"),
    ("student_id\n\xe9l\xe8ve\n".encode("latin-1"), "cannot be read as a UTF-8 CSV file"),
])
def test_a_malformed_roster_is_refused_saying_where(tmp_path, text, problem):
    path = tmp_path / "roster.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RosterError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        Roster.read(path)


def test_a_malformed_roster_collects_nothing(setup, tmp_path):
    course, _, honest, _ = setup
    (tmp_path / "bad.csv").write_text("student_id,mail\nada,x\n", encoding="utf-8")
    (tmp_path / "hand-ins" / "ada").mkdir(parents=True)
    (tmp_path / "hand-ins" / "ada" / NOTEBOOK).write_bytes(honest)
    with pytest.raises(ValueError, match="unknown: mail"):
        collect_handins(course, AID, tmp_path / "hand-ins", roster=tmp_path / "bad.csv")
    assert not (course.root / "submitted").exists()
    with Gradebook(course.db_url, course.course_id) as gb:
        assert gb.students == []


# ---------------------------------------------------------------- Moodle


def _moodle_zip(path, honest, untouched):
    return _zip(path, {
        f"Ada Lovelace_101_assignsubmission_file_/{NOTEBOOK}": honest,
        "Grace Hopper_102_assignsubmission_file_/numpy_final.ipynb": untouched,  # renamed by the student
        f"red-Alan Turing_103_assignsubmission_file_/{NOTEBOOK}": honest,  # a group submission of team red
        f"Dorothy Vaughan_105_assignsubmission_file_{NOTEBOOK}": honest,  # flat; no moodle_id: by name
        "Katherine Johnson_104_assignsubmission_onlinetext_/onlinetext.html": b"<p>see attached</p>",
        f"Ed Nobody_999_assignsubmission_file_/{NOTEBOOK}": untouched,  # not in the roster
        f"__MACOSX/Ada Lovelace_101_assignsubmission_file_/._{NOTEBOOK}": b"\0",
    })


def test_a_moodle_download_is_collected_with_the_roster(setup, tmp_path):
    course, roster, honest, untouched = setup
    outcomes = collect_handins(course, AID, _moodle_zip(tmp_path / "moodle.zip", honest, untouched), roster=roster)
    by = _by_label(outcomes)
    assert (by["Ada Lovelace_101_assignsubmission_file_"].status,
            by["Ada Lovelace_101_assignsubmission_file_"].student) == (COLLECTED, "ada")
    assert _submitted(course, "ada") == {NOTEBOOK: honest}

    grace = by["Grace Hopper_102_assignsubmission_file_"]
    assert grace.status == COLLECTED and f"handed in as numpy_final.ipynb: collected as {NOTEBOOK}" in grace.reason
    assert _submitted(course, "grace") == {NOTEBOOK: untouched}

    team = by["red-Alan Turing_103_assignsubmission_file_"]
    assert (team.status, team.student, team.members) == (COLLECTED, "red", ("alan", "barbara"))
    assert _submitted(course, "alan") == _submitted(course, "barbara") == {NOTEBOOK: honest}

    dorothy = by[f"Dorothy Vaughan_105_assignsubmission_file_{NOTEBOOK}"]
    assert dorothy.student == "dorothy" and "mapped by name: the roster has no moodle_id 105" in dorothy.reason

    katherine = by["Katherine Johnson_104_assignsubmission_onlinetext_"]
    assert (katherine.status, katherine.student) == (REFUSED, "katherine")
    assert "no notebook to collect" in katherine.reason

    ed = by["Ed Nobody_999_assignsubmission_file_"]
    assert ed.status == UNMAPPED and "no roster row has moodle_id 999" in ed.reason and "'Ed Nobody'" in ed.reason
    assert [o.student for o in outcomes if o.status == MISSING] == ["margaret"]
    assert sorted(os.listdir(course.root / "submitted")) == ["ada", "alan", "barbara", "dorothy", "grace"]
    report = format_report(outcomes)
    assert "collected red (alan, barbara)" in report and "UNMAPPED Ed Nobody_999" in report
    assert "MISSING margaret" in report and "1 unmapped, 1 missing" in report


def test_the_roster_fills_the_gradebook_with_names(setup, tmp_path):
    """The formgrader shows the gradebook's names: every roster student is there, with a hand-in or not."""
    course, roster, honest, untouched = setup
    collect_handins(course, AID, _moodle_zip(tmp_path / "moodle.zip", honest, untouched), roster=roster)
    rows = {r.split(",")[0]: r.split(",") for r in ROSTER.splitlines()[1:]}
    with Gradebook(course.db_url, course.course_id) as gb:
        students = {s.id: s for s in gb.students}
        assert sorted(students) == sorted(NAMES)
        for sid, s in students.items():
            assert (s.first_name, s.last_name) == NAMES[sid]
            assert s.email == rows[sid][3] and (s.lms_user_id or "") == rows[sid][5]


def test_a_moodle_name_matching_several_students_is_not_guessed(setup, tmp_path):
    course, _, honest, _ = setup
    roster = tmp_path / "twins.csv"
    roster.write_text("student_id,first_name,last_name\nann1,Ann,Lee\nann2,Ann,Lee\n", encoding="utf-8")
    source = _zip(tmp_path / "moodle.zip", {f"Ann Lee_55_assignsubmission_file_/{NOTEBOOK}": honest})
    [ann, *missing] = collect_handins(course, AID, source, roster=roster)
    assert ann.status == UNMAPPED and "2 (ann1, ann2) students without a moodle_id are named 'Ann Lee'" in ann.reason
    assert [o.student for o in missing] == ["ann1", "ann2"]
    assert not (course.root / "submitted").exists()


# ---------------------------------------------------------------- Canvas


def test_a_canvas_download_is_collected_with_the_roster(setup, tmp_path):
    course, roster, honest, untouched = setup
    source = _zip(tmp_path / "submissions.zip", {
        f"lovelaceada_5001_70001_{NOTEBOOK}": honest,
        "hopper grace_late_5002_70002_01_numpy-1.ipynb": untouched,  # late, uploaded twice: Canvas's -1
        f"turingalan_5003_70003_{NOTEBOOK}": honest,  # two files of one student: one hand-in
        "turingalan_5003_70004_notes.pdf": b"%PDF-1.4",
        f"vaughandorothy_5005_70005_{NOTEBOOK}": untouched,
        f"nobody_9999_70009_{NOTEBOOK}": honest,
    })
    by = _by_label(collect_handins(course, AID, source, roster=roster))
    assert by[f"lovelaceada_5001_70001_{NOTEBOOK}"].student == "ada"
    grace = by["hopper grace_late_5002_70002_01_numpy-1.ipynb"]
    assert grace.status == COLLECTED and "Canvas marked it late" in grace.reason
    assert f"handed in as 01_numpy-1.ipynb: collected as {NOTEBOOK}" in grace.reason
    alan = by[f"turingalan_5003_70003_{NOTEBOOK}, turingalan_5003_70004_notes.pdf"]
    assert (alan.student, alan.members) == ("alan", ()) and "skipped notes.pdf: not a notebook" in alan.reason
    assert by[f"nobody_9999_70009_{NOTEBOOK}"].status == UNMAPPED
    assert "Canvas user 9999 (nobody): no roster row has canvas_id 9999" in by[f"nobody_9999_70009_{NOTEBOOK}"].reason
    assert {s: _submitted(course, s) for s in ("ada", "grace", "alan", "dorothy", "barbara")} == {
        "ada": {NOTEBOOK: honest}, "grace": {NOTEBOOK: untouched}, "alan": {NOTEBOOK: honest},
        "dorothy": {NOTEBOOK: untouched}, "barbara": {}}


def test_an_extracted_canvas_download_is_collected_alike(setup, tmp_path):
    course, roster, honest, _ = setup
    folder = tmp_path / "extracted"
    folder.mkdir()
    (folder / f"lovelaceada_5001_70001_{NOTEBOOK}").write_bytes(honest)
    [ada] = [o for o in collect_handins(course, AID, folder, roster=roster) if o.status != MISSING]
    assert (ada.status, ada.student) == (COLLECTED, "ada") and _submitted(course, "ada") == {NOTEBOOK: honest}


# ---------------------------------------------------------------- team repositories and plain hand-ins


def test_team_repositories_credit_every_member_and_unknown_folders_are_reported(setup, tmp_path):
    course, roster, honest, untouched = setup
    handins = tmp_path / "repos"
    for path, data in {f"red/.git/{NOTEBOOK}": untouched, f"red/{AID}/{NOTEBOOK}": honest,
                       f"ada/{NOTEBOOK}": untouched, f"zed/{NOTEBOOK}": honest}.items():
        (handins / path).parent.mkdir(parents=True, exist_ok=True)
        (handins / path).write_bytes(data)
    by = _by_label(collect_handins(course, AID, handins, roster=roster))
    assert (by["red"].status, by["red"].members) == (COLLECTED, ("alan", "barbara"))
    assert _submitted(course, "alan") == _submitted(course, "barbara") == {NOTEBOOK: honest}
    assert by["ada"].status == COLLECTED and _submitted(course, "ada") == {NOTEBOOK: untouched}
    assert by["zed"].status == UNMAPPED and "'zed' is neither a student_id nor a team of the roster" in by["zed"].reason


def test_a_student_credited_twice_is_refused_in_both_hand_ins(setup, tmp_path):
    """The team repository and alan's own Moodle folder would overwrite each other: neither is taken."""
    course, roster, honest, untouched = setup
    source = _zip(tmp_path / "mixed.zip", {f"red/{NOTEBOOK}": honest,
                                           f"Alan Turing_103_assignsubmission_file_/{NOTEBOOK}": untouched,
                                           f"ada/{NOTEBOOK}": honest})
    by = _by_label(collect_handins(course, AID, source, roster=roster))
    for label in ("red", "Alan Turing_103_assignsubmission_file_"):
        assert by[label].status == REFUSED and "ambiguous" in by[label].reason
    assert by["ada"].status == COLLECTED
    assert sorted(os.listdir(course.root / "submitted")) == ["ada"]


def test_a_team_handing_in_the_solution_is_flagged_for_every_member(setup, tmp_path):
    course, roster, honest, _ = setup
    solution = context(course).solution.read_bytes()
    collect_handins(course, AID, _zip(tmp_path / "first.zip", {f"alan/{NOTEBOOK}": honest}), roster=roster)
    [red] = [o for o in collect_handins(course, AID, _zip(tmp_path / "second.zip", {f"red/{NOTEBOOK}": solution}),
                                        roster=roster) if o.status != MISSING]
    assert red.status == FLAGGED and "the earlier submissions of alan were removed" in red.reason
    for member in ("alan", "barbara"):
        assert (course.root / "flagged" / member / AID / NOTEBOOK).read_bytes() == solution
        assert _submitted(course, member) == {}


def test_hostile_members_of_an_lms_download_are_refused(setup, tmp_path):
    """Zip slip at the download's top level, a symlink inside a participant's folder, a zip bomb upload."""
    course, roster, honest, _ = setup
    source = tmp_path / "hostile.zip"
    link = zipfile.ZipInfo(f"Ada Lovelace_101_assignsubmission_file_/{NOTEBOOK}")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"../../escaped-{NOTEBOOK}", honest)
        zf.writestr(link, f"../../solutions/{AID}/{NOTEBOOK}")
        with zf.open("hopper grace_5002_70002_bomb.zip", "w") as member:
            with zipfile.ZipFile(member, "w", zipfile.ZIP_DEFLATED) as inner:
                with inner.open(NOTEBOOK, "w") as nb:
                    for _ in range(30):
                        nb.write(bytes(2**20))
    by = _by_label(collect_handins(course, AID, source, roster=roster))
    assert by[f"../../escaped-{NOTEBOOK}"].status == REFUSED
    assert "an absolute path or one with '..'" in by[f"../../escaped-{NOTEBOOK}"].reason
    ada = by["Ada Lovelace_101_assignsubmission_file_"]
    assert ada.status == REFUSED and f"{NOTEBOOK}: a symbolic link, not followed" in ada.reason
    grace = by["hopper grace_5002_70002_bomb.zip"]
    assert grace.status == REFUSED and "holds more than 20 MB" in grace.reason
    assert not (course.root / "submitted").exists()
    assert not (tmp_path.parent / f"escaped-{NOTEBOOK}").exists()
