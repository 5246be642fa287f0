"""``nbgrader zip_collect a1_convolution`` with the course's config on what learning platforms download.

One throwaway course, one download with every name shape below and a roster, collected by the
real command; then a second download with files nobody can place.

=====================================================================  =============================
file in downloaded/a1_convolution/archive/                             expected
=====================================================================  =============================
canvas.zip  turingalan_1002_5001_a1_convolution.ipynb                  older resubmission
            turingalan_1002_5002_a1_convolution-1.ipynb                older resubmission
            turingalan_LATE_1002_5003_a1_convolution-2.ipynb           alan_turing, late
            leekim_1003_5004_notes.txt                                 not a notebook (kim's)
moodle.zip  Grace Hopper_20001_assignsubmission_file_/a1_convolution.ipynb          grace_hopper
            Grace Hopper_20001_assignsubmission_onlinetext_/onlinetext.html         not a notebook
            Edsger Dijkstra_20002_assignsubmission_file_A1_Convolution.ipynb        edsger
            Margaret Hamilton_20003_assignsubmission_file_/work.zip                 an archive in it:
              work/a1_convolution.ipynb                                             mhamilton
            __MACOSX/._a1_convolution.ipynb                                         macOS metadata
blackboard.zip  A1 Convolution_jbackus_attempt_2024-03-01-16-59-02_a1_convolution.ipynb   older attempt
                A1 Convolution_jbackus_attempt_2024-03-01-16-59-02.txt                    receipt
                A1 Convolution_jbackus_attempt_2024-03-02-09-30-00_a1_convolution.ipynb   jbackus, late
                A1 Convolution_jbackus_attempt_2024-03-02-09-30-00.txt                    receipt
ada_lovelace_a1_convolution.ipynb (no archive)                         ada_lovelace (not "ada")
ada_byron_a1_convolution.ipynb                                         ada_byron
kim_A1_Convolution.ipynb                                               kim
=====================================================================  =============================

The roster also lists Tony Hoare, who handed in nothing. The due date is 2024-03-01 17:00 UTC.
"""

from __future__ import annotations

import copy
import csv
import json
import re
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from nbgrader_course import COURSE_ID, copy_course, course_env, submission

pytestmark = pytest.mark.slow

ASSIGNMENT = "a1_convolution"
DUE = datetime(2024, 3, 1, 17, 0, 0)
ROSTER = [  # Canvas's gradebook export: the five columns, then an assignment column
    ("Lovelace, Ada", "1001", "S001", "ada_lovelace", "Group A"),
    ("Byron, Ada", "1005", "S005", "ada_byron", "Group A"),
    ("Turing, Alan", "1002", "S002", "alan_turing", "Group A"),
    ("Lee, Kim", "1003", "S003", "kim", "Group B"),
    ("Hopper, Grace", "1006", "S006", "grace_hopper", "Group B"),
    ("Dijkstra, Edsger", "1007", "S007", "edsger", "Group B"),
    ("Hamilton, Margaret", "1008", "S008", "mhamilton", "Group B"),
    ("Backus, John", "1009", "S009", "jbackus", "Group B"),
    ("Hoare, Tony", "1010", "S010", "tony_hoare", "Group B"),
]
ARCHIVES = {
    "canvas.zip": [
        "turingalan_1002_5001_a1_convolution.ipynb",
        "turingalan_1002_5002_a1_convolution-1.ipynb",
        "turingalan_LATE_1002_5003_a1_convolution-2.ipynb",
        "leekim_1003_5004_notes.txt",
    ],
    "moodle.zip": [
        "Grace Hopper_20001_assignsubmission_file_/a1_convolution.ipynb",
        "Grace Hopper_20001_assignsubmission_onlinetext_/onlinetext.html",
        "Edsger Dijkstra_20002_assignsubmission_file_A1_Convolution.ipynb",
        "Margaret Hamilton_20003_assignsubmission_file_/work.zip",
        "__MACOSX/._a1_convolution.ipynb",
    ],
    "blackboard.zip": [
        "A1 Convolution_jbackus_attempt_2024-03-01-16-59-02_a1_convolution.ipynb",
        "A1 Convolution_jbackus_attempt_2024-03-01-16-59-02.txt",
        "A1 Convolution_jbackus_attempt_2024-03-02-09-30-00_a1_convolution.ipynb",
        "A1 Convolution_jbackus_attempt_2024-03-02-09-30-00.txt",
    ],
}
LOOSE = ["ada_lovelace_a1_convolution.ipynb", "ada_byron_a1_convolution.ipynb", "kim_A1_Convolution.ipynb"]
COLLECTED = {  # student -> the file whose notebook must end up in submitted/<student>/a1_convolution/
    "alan_turing": "turingalan_LATE_1002_5003_a1_convolution-2.ipynb",
    "grace_hopper": "a1_convolution.ipynb@Grace Hopper",
    "edsger": "Edsger Dijkstra_20002_assignsubmission_file_A1_Convolution.ipynb",
    "mhamilton": "work/a1_convolution.ipynb",
    "jbackus": "A1 Convolution_jbackus_attempt_2024-03-02-09-30-00_a1_convolution.ipynb",
    "ada_lovelace": "ada_lovelace_a1_convolution.ipynb",
    "ada_byron": "ada_byron_a1_convolution.ipynb",
    "kim": "kim_A1_Convolution.ipynb",
}


def labelled(notebook: dict, label: str) -> bytes:
    """The notebook with ``label`` in its metadata, so the test can tell which file was collected."""
    notebook = copy.deepcopy(notebook)
    notebook["metadata"]["lms_test_file"] = label
    return json.dumps(notebook, indent=1).encode()


def write_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)


def content(name: str, notebook: dict, label: str | None = None) -> bytes:
    if name.endswith(".ipynb"):
        return labelled(notebook, label or Path(name).name)
    if name.endswith(".txt") and "_attempt_" in name:
        return b"Name: John Backus (jbackus)\nAssignment: A1 Convolution\n"
    return b"some other file\n"


def zip_collect(course: Path, *args: str) -> subprocess.CompletedProcess:
    """``nbgrader zip_collect`` in ``course``, whatever its exit status."""
    return subprocess.run([sys.executable, "-m", "nbgrader", "zip_collect", *args], cwd=course,
                          env=course_env(), capture_output=True, text=True, timeout=600)


def table_rows(stdout: str) -> dict[str, tuple[str, str]]:
    """file -> (student, result) from the table the collector prints."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if re.match(r"file\s+student\s+result", line))
    rule = lines[header + 1]
    file_width, student_width = (len(part) for part in rule.split("  ")[:2])
    rows = {}
    for line in lines[header + 2:]:
        if not line.strip():
            break
        file = line[:file_width].rstrip()
        student = line[file_width + 2:file_width + 2 + student_width].rstrip()
        rows[file] = (student, line[file_width + 4 + student_width:])
    return rows


@pytest.fixture(scope="module")
def courses(released_course, tmp_path_factory):
    """Three fresh courses: the download with every shape plus a roster, one for bad files, one
    for names a student wrote inside an archive."""
    return tuple(copy_course(released_course, tmp_path_factory.mktemp(name) / "course")
                 for name in ("lms", "lms_bad", "lms_inside"))


@pytest.fixture(scope="module")
def collected(courses):
    course = courses[0]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
    with open(course / "roster.csv", "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "A1 Convolution (4321)"])
        writer.writerow(["Points Possible", "", "", "", "", "10"])
        writer.writerows([*row, ""] for row in ROSTER)

    notebook = submission(course, ASSIGNMENT, solved=False)
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    for zip_name, names in ARCHIVES.items():
        members = {}
        for name in names:
            if name.endswith("work.zip"):
                inner = archive / "work.zip"
                write_zip(inner, {"a1_convolution.ipynb": labelled(notebook, "work/a1_convolution.ipynb")})
                members[name] = inner.read_bytes()
                inner.unlink()
            elif name.startswith("Grace Hopper") and name.endswith(".ipynb"):
                members[name] = content(name, notebook, "a1_convolution.ipynb@Grace Hopper")
            else:
                members[name] = content(name, notebook)
        write_zip(archive / zip_name, members)
    for name in LOOSE:
        (archive / name).write_bytes(content(name, notebook))

    result = zip_collect(course, ASSIGNMENT)
    return {"course": course, "result": result, "table": table_rows(result.stdout)}


def test_every_student_is_collected_with_the_right_file(collected):
    assert collected["result"].returncode == 0, collected["result"].stdout + collected["result"].stderr
    submitted = collected["course"] / "submitted"
    assert sorted(path.name for path in submitted.iterdir()) == sorted(COLLECTED)
    for student, label in COLLECTED.items():
        notebook = json.loads((submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        assert notebook["metadata"]["lms_test_file"] == label, student


def test_ids_with_underscores_are_not_cut_at_the_first_one(collected):
    table = collected["table"]
    assert table["ada_lovelace_a1_convolution.ipynb"][0] == "ada_lovelace"
    assert table["ada_byron_a1_convolution.ipynb"][0] == "ada_byron"


def test_the_latest_resubmission_and_attempt_are_kept(collected):
    table = collected["table"]
    kept = "turingalan_LATE_1002_5003_a1_convolution-2.ipynb"
    for older, suffix in (("turingalan_1002_5001_a1_convolution.ipynb", "no suffix"),
                          ("turingalan_1002_5002_a1_convolution-1.ipynb", "-1")):
        assert table[f"canvas/{older}"] == ("alan_turing", f"skipped: older resubmission ({suffix}), kept {kept}")
    first = "blackboard/A1 Convolution_jbackus_attempt_2024-03-01-16-59-02_a1_convolution.ipynb"
    assert table[first][1].startswith(
        "skipped: older attempt (2024-03-01 16:59 UTC), kept A1 Convolution_jbackus_attempt_2024-03-02")


def test_late_submissions_are_late_for_nbgrader_and_in_the_table(collected):
    from nbgrader.utils import parse_utc

    def timestamp(student):
        path = collected["course"] / "submitted" / student / ASSIGNMENT / "timestamp.txt"
        return parse_utc(path.read_text().strip()) if path.exists() else None

    assert timestamp("alan_turing") > DUE  # Canvas says LATE, not when: the due date + 1 s
    assert timestamp("jbackus") == datetime(2024, 3, 2, 9, 30, 0)  # Blackboard's attempt time
    for student in set(COLLECTED) - {"alan_turing", "jbackus"}:
        assert timestamp(student) is None, student
    table = collected["table"]
    assert "LATE (Canvas" in table["canvas/turingalan_LATE_1002_5003_a1_convolution-2.ipynb"][1]
    blackboard = "blackboard/A1 Convolution_jbackus_attempt_2024-03-02-09-30-00_a1_convolution.ipynb"
    assert "LATE by 16 h 30 min" in table[blackboard][1]
    late = [file for file, (_, result) in table.items() if result.startswith("collected") and "LATE" in result]
    assert len(late) == 2


def test_the_table_lists_every_file_with_what_happened(collected):
    extracted = collected["course"] / "downloaded" / ASSIGNMENT / "extracted"
    files = sorted(path.relative_to(extracted).as_posix() for path in extracted.rglob("*") if path.is_file())
    table = collected["table"]
    assert sorted(table) == files
    assert sum(result.startswith("collected") for _, result in table.values()) == len(COLLECTED)
    assert table["canvas/leekim_1003_5004_notes.txt"] == ("kim", "skipped: not a notebook")
    receipt = "blackboard/A1 Convolution_jbackus_attempt_2024-03-01-16-59-02.txt"
    assert table[receipt] == ("jbackus", "skipped: Blackboard receipt")
    assert table["moodle/__MACOSX/._a1_convolution.ipynb"][1] == "skipped: macOS metadata"
    assert table["moodle/Margaret Hamilton_20003_assignsubmission_file_/work.zip"][1] == "archive, unpacked into work/"
    assert table["kim_A1_Convolution.ipynb"] == ("kim", "collected: id in the file name")


def test_students_without_a_submission_are_listed(collected):
    assert "Submitted nothing (1 of 9 on the roster): Hoare, Tony (tony_hoare)" in collected["result"].stdout


def test_the_gradebook_learns_the_students_names_and_platform_ids(collected):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{collected['course'] / 'gradebook.db'}", course_id=COURSE_ID) as gb:
        turing = gb.find_student("alan_turing")
        assert (turing.first_name, turing.last_name, turing.lms_user_id) == ("Alan", "Turing", "1002")


def test_a_file_nobody_can_place_fails_the_command_and_is_named(courses):
    """No roster here: two Moodle participants with one name are two people, not one."""
    course = courses[1]
    notebook = submission(course, ASSIGNMENT, solved=False)
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    write_zip(archive / "download.zip", {
        "a1_convolution.ipynb": labelled(notebook, "no name"),
        "Sam Smith_31_assignsubmission_file_a1_convolution.ipynb": labelled(notebook, "sam 31"),
        "Sam Smith_32_assignsubmission_file_a1_convolution.ipynb": labelled(notebook, "sam 32"),
        "ada_byron_a1_convolution.ipynb": labelled(notebook, "ada"),
    })
    result = zip_collect(course, ASSIGNMENT)
    assert result.returncode == 1
    error = result.stderr[result.stderr.index("could not be placed"):]
    assert "download/a1_convolution.ipynb: no student in its name or folder" in error
    assert "download/Sam Smith_31_assignsubmission_file_a1_convolution.ipynb" in error
    assert "Sam Smith_32" in error and "give a roster to tell them apart" in error
    table = table_rows(result.stdout)
    assert table["download/a1_convolution.ipynb"][1].startswith("NOT PLACED")
    # everyone who can be placed is still collected
    assert table["download/ada_byron_a1_convolution.ipynb"] == ("ada_byron", "collected: id in the file name")
    assert (course / "submitted" / "ada_byron" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    assert sorted(path.name for path in (course / "submitted").iterdir()) == ["ada_byron"]


def test_what_is_inside_a_students_archive_is_that_students_whatever_its_names_say(courses):
    """The platform names the archive a student uploads (Eve's, late); the names inside are the
    student's own. Eve names one notebook as Canvas would name Ada's, with a higher
    resubmission number, and on Blackboard names hers with an attempt time before the due date:
    Ada keeps her own work, and both of Eve's stay Eve's and late."""
    course = courses[2]
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
    notebook = submission(course, ASSIGNMENT, solved=False)
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    eves = archive / "eves.zip"
    write_zip(eves, {"lovelaceada_1001_9999_a1_convolution-9.ipynb": labelled(notebook, "eve, as ada"),
                     "eveevil_1004_9998_a1_convolution.ipynb": labelled(notebook, "eve's own")})
    backdated = archive / "backdated.zip"
    write_zip(backdated, {"A1 Convolution_evebb_attempt_2024-03-01-12-00-00_a1_convolution.ipynb":
                          labelled(notebook, "eve on blackboard")})
    write_zip(archive / "canvas.zip", {
        "lovelaceada_1001_5001_a1_convolution.ipynb": labelled(notebook, "ada's own"),
        "eveevil_LATE_1004_5002_work.zip": eves.read_bytes(),
        "A1 Convolution_evebb_attempt_2024-03-04-09-30-00_work.zip": backdated.read_bytes(),
    })
    eves.unlink()
    backdated.unlink()
    result = zip_collect(course, ASSIGNMENT)
    assert result.returncode == 0, result.stdout + result.stderr

    def collected(student):
        folder = course / "submitted" / student / ASSIGNMENT
        label = json.loads((folder / f"{ASSIGNMENT}.ipynb").read_text())["metadata"]["lms_test_file"]
        stamp = folder / "timestamp.txt"
        return label, parse_utc(stamp.read_text().strip()) if stamp.exists() else None

    assert collected("1001") == ("ada's own", None)
    label, stamp = collected("1004")
    assert label == "eve, as ada" and stamp > DUE  # her highest resubmission, late as Canvas said
    assert collected("evebb") == ("eve on blackboard", datetime(2024, 3, 4, 9, 30))
    table = table_rows(result.stdout)
    inside = "canvas/eveevil_LATE_1004_5002_work/lovelaceada_1001_9999_a1_convolution-9.ipynb"
    assert table[inside][0] == "1004" and "LATE" in table[inside][1]
    assert sorted(path.name for path in (course / "submitted").iterdir()) == ["1001", "1004", "evebb"]
