"""Reading platforms' file names, the roster, and choosing one file per student (no nbgrader run)."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

import pytest

from course_utils.instructor.lms.plan import plan_collection
from course_utils.instructor.lms.names import describe, match_notebook
from course_utils.instructor.lms.roster import Roster, RosterEntry, read_roster

NOTEBOOKS = ["a1_convolution.ipynb"]


def facts(path: str, roster=None, archives=()):
    return describe(PurePosixPath(path), NOTEBOOKS, {PurePosixPath(a) for a in archives}, roster)


@pytest.mark.parametrize("path, platform, key, name, late, attempt", [
    ("lovelaceada_1001_5001_a1_convolution.ipynb", "Canvas", "1001", "lovelaceada", False, None),
    ("lovelaceada_LATE_1001_5003_a1_convolution-2.ipynb", "Canvas", "1001", "lovelaceada", True, None),
    ("Ada Lovelace_20001_assignsubmission_file_a1_convolution.ipynb", "Moodle", "20001", "Ada Lovelace", False, None),
    ("Ada Lovelace_20001_assignsubmission_file_/a1_convolution.ipynb", "Moodle", "20001", "Ada Lovelace", False, None),
    ("A1 Convolution_alovelace_attempt_2024-03-01-16-59-02_a1_convolution.ipynb", "Blackboard", "alovelace", "",
     False, datetime(2024, 3, 1, 16, 59, 2)),
    ("ada_lovelace_a1_convolution.ipynb", "name", "ada_lovelace", "", False, None),
    ("ada_lovelace_12345_submission/a1_convolution.ipynb", "name", "ada_lovelace", "", False, None),
])
def test_each_platforms_name_says_whose_notebook_it_is(path, platform, key, name, late, attempt):
    found = facts(path)
    assert found.kind == "notebook" and found.notebook == "a1_convolution.ipynb"
    owner = found.owner
    assert (owner.platform, owner.key, owner.name, owner.late, owner.attempt) == (platform, key, name, late, attempt)


@pytest.mark.parametrize("file_name, expected", [
    ("a1_convolution.ipynb", ("a1_convolution.ipynb", "", 0)),
    ("kim_A1_Convolution.ipynb", ("a1_convolution.ipynb", "kim", 0)),
    ("kim_a1 convolution (3).ipynb", ("a1_convolution.ipynb", "kim", 3)),
    ("a1_convolution-2.ipynb", ("a1_convolution.ipynb", "", 2)),
    ("a1_convolution-checkpoint.ipynb", None),
    ("xa1_convolution.ipynb", None),
    ("a1_convolution.py", None),
])
def test_the_students_file_name_may_differ_in_case_spaces_suffix_and_prefix(file_name, expected):
    assert match_notebook(file_name, NOTEBOOKS) == expected


def test_other_files_are_told_apart():
    assert facts("A1_bob_attempt_2024-03-01-16-59-02.txt").kind == "receipt"
    assert facts("lovelaceada_1001_5001_a2_pooling.ipynb").kind == "other notebook"
    assert facts("x/.ipynb_checkpoints/a1_convolution-checkpoint.ipynb").kind == "checkpoint"
    assert facts("subs/nested.zip", archives=["subs", "subs/nested"]).kind == "archive"
    # the folder an archive was unpacked into is never a student, even if it looks like one
    assert facts("a1_convolution_2024/a1_convolution.ipynb", archives=["a1_convolution_2024"]).owner is None


@pytest.mark.parametrize("inner", [
    "lovelaceada_1001_9999_a1_convolution-9.ipynb",  # a classmate's Canvas name
    "A1 Convolution_alovelace_attempt_2024-03-01-12-00-00_a1_convolution.ipynb",  # an earlier attempt
    "Ada Lovelace_20001_assignsubmission_file_/a1_convolution.ipynb",  # a Moodle folder
    "ada_lovelace_12345_submission/a1_convolution.ipynb",  # a numbered folder
])
def test_inside_a_students_archive_the_platforms_name_for_the_archive_decides(inner):
    archive = "subs/eveevil_LATE_1004_5002_work"
    found = facts(f"{archive}/{inner}", archives=["subs", archive])
    assert found.kind == "notebook" and found.notebook == "a1_convolution.ipynb"
    assert (found.owner.platform, found.owner.key, found.owner.late) == ("Canvas", "1004", True)
    assert found.owner.where == "archive eveevil_LATE_1004_5002_work"
    attempt = "A1 Convolution_eve_attempt_2024-03-04-09-30-00_work"
    found = facts(f"subs/{attempt}/{inner}", archives=["subs", f"subs/{attempt}"])
    assert (found.owner.key, found.owner.attempt) == ("eve", datetime(2024, 3, 4, 9, 30))


def test_a_canvas_export_works_as_the_roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,A1 (4321)\n"
                    "    Points Possible,,,,,10\n"
                    '"Lovelace, Ada",1001,S001,ada.lovelace,Group A,\n'
                    '"Byron, Ada",1005,S005,,Group A,\n', encoding="utf-8")
    roster = read_roster(path)
    assert [entry.student_id for entry in roster.entries] == ["ada.lovelace", "S005"]
    assert roster.entries[0].first_last == ("Ada", "Lovelace")
    assert roster.with_name("lovelaceada") == roster.with_name("Ada Lovelace") == [roster.entries[0]]


def test_a_roster_without_the_needed_columns_says_which(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("Name,Email\nAda,ada@example.org\n")
    with pytest.raises(ValueError, match="needs the column 'Student' and at least one of 'SIS Login ID'"):
        read_roster(path)


ROSTER = Roster([RosterEntry("ada_l", "Lovelace, Ada", "1001"), RosterEntry("ada_b", "Byron, Ada", "1005"),
                 RosterEntry("sam1", "Smith, Sam", "2001"), RosterEntry("sam2", "Smith, Sam", "2002")])


def test_roster_matching_by_platform_id_by_name_and_a_blackboard_login_with_an_underscore():
    plan = plan_collection([facts("lovelaceada_1001_1_a1_convolution.ipynb", ROSTER),
                            facts("Ada Byron_7_assignsubmission_file_a1_convolution.ipynb", ROSTER),
                            facts("a1_convolution_ada_l_attempt_2024-03-01-16-59-02_a1_convolution.ipynb", ROSTER)],
                           assignment="a1_convolution", roster=ROSTER)
    assert [(outcome.status, outcome.student) for outcome in plan.outcomes] == [
        ("skipped", "ada_l"), ("collected", "ada_b"), ("collected", "ada_l")]
    assert plan.outcomes[0].detail.startswith("no attempt time, kept the dated attempt")


def test_a_name_two_roster_students_share_is_not_placed():
    plan = plan_collection([facts("Sam Smith_9_assignsubmission_file_a1_convolution.ipynb", ROSTER)],
                           assignment="a1_convolution", roster=ROSTER)
    assert plan.outcomes[0].status == "not placed"
    assert "'Sam Smith' matches 2 roster students" in plan.outcomes[0].detail


def test_equal_versions_are_kept_once_or_refused_when_they_differ():
    files = [facts("one/ada_a1_convolution.ipynb"), facts("two/ada_a1_convolution.ipynb")]
    same = plan_collection(files, assignment="a1_convolution", same_content=lambda a, b: True)
    assert [outcome.status for outcome in same.outcomes] == ["collected", "skipped"]
    assert same.outcomes[1].detail == "same content as ada_a1_convolution.ipynb"
    different = plan_collection(files, assignment="a1_convolution")
    assert [outcome.status for outcome in different.outcomes] == ["not placed", "not placed"]
    newer = plan_collection(files, assignment="a1_convolution", mtime=lambda path: "two" in str(path))
    assert [outcome.status for outcome in newer.outcomes] == ["skipped", "collected"]
