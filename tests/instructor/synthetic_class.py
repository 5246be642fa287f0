"""A synthetic class of 30 for the class report: known mistakes at known rates, graded without nbgrader.

Grading 30 notebooks through ``nbgrader autograde`` takes about 45 s here; the report only reads
what grading recorded. So each *kind* of submission (:data:`PLAN`) is checked once by the real
trusted check (:class:`~course_utils.instructor.trusted.answers.AnswerRun`: the checking process
on the planted notebook, then :func:`~course_utils.instructor.trusted.verdict.judge_answers` and
:func:`~course_utils.instructor.trusted.verdict.score_cell`), and every student of that kind gets
exactly the data ``TrustedGrading`` writes: the verdicts in the autograded notebook's test cells,
the run's record in its metadata, the scores in nbgrader's gradebook (its own API), the
submission in ``submitted/``. The kernel's side is planted: its test cell passes where the
visible cases pass (and, for the tamperer, although they do not).

============  ========  ========================================================================
kind          students  a1_convolution as handed in
============  ========  ========================================================================
right         8         the instructor's solution
pad_one       6         zero_pad pads by 1 whatever ``pad`` says (conv2d pads with np.pad itself)
no_stride     9         conv2d forgets the stride (every window starts at y, x)
raises        3         conv_single_step raises a ValueError naming a student and a file path
                        (conv2d sums the windows itself)
hang          2         conv2d never returns (stopped by the trusted check)
delegate      1         conv2d imports torch
tamper        1         conv_single_step adds 1, and the kernel's test cell said it passed
============  ========  ========================================================================

Two students of the gradebook and one of the roster hand in nothing; two submissions are late.
"""

from __future__ import annotations

import copy
import datetime
import json
import warnings
from pathlib import Path

from nbgrader_course import COURSE_ID, mutate, solution_code, submission

ASSIGNMENT = "a1_convolution"
PLAN = {"right": 8, "pad_one": 6, "no_stride": 9, "raises": 3, "hang": 2, "delegate": 1, "tamper": 1}
DUE = datetime.datetime(2030, 3, 1, 12, 0)
#: The student whose name and folder the raising conv_single_step puts in its message.
NAMED = ("ada.lovelace", "Ada", "Lovelace")
LATE = ("s01", "s10")  # a right one, a no_stride one
MISSING_IN_GRADEBOOK = ("quiet1", "quiet2")
MISSING_IN_ROSTER = "rostered"
RAISED = ("raise ValueError('Ada Lovelace: my kernel from /home/ada.lovelace/work/a1_convolution.ipynb "
          "<script>alert(1)</script> does not fit')")

OWN_CONV2D = """    n_images, _, height, width = x.shape
    n_filters, _, kh, kw = w.shape
    h_out = output_size(height, kh, padding, stride)
    w_out = output_size(width, kw, padding, stride)
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n_images, n_filters, h_out, w_out), dtype=x.dtype)
    for n in range(n_images):
        for f in range(n_filters):
            for y in range(h_out):
                for x_ in range(w_out):
                    top, left = y * stride, x_ * stride
                    window = x_pad[n, :, top:top + kh, left:left + kw]
                    out[n, f, y, x_] = np.sum(window * w[f]) + b[f]
    return out
"""


def students() -> dict[str, str]:
    """student id -> kind, 30 of them: s01, s02, ... in :data:`PLAN`'s order, one of the
    ``raises`` kind being :data:`NAMED`."""
    ids, number = {}, 1
    for kind, count in PLAN.items():
        for _ in range(count):
            student = NAMED[0] if kind == "raises" and NAMED[0] not in ids else f"s{number:02d}"
            ids[student] = kind
            number += 1
    return ids


def code_of(kind: str) -> dict[str, str]:
    """grade_id -> the code of each solution cell a student of ``kind`` hands in."""
    a1 = solution_code(ASSIGNMENT)
    header = a1["conv2d"].split("    n_images")[0]
    own = header + OWN_CONV2D
    return {
        "right": {},
        "pad_one": {"zero_pad": mutate(a1["zero_pad"], "(pad, pad), (pad, pad)", "(1, 1), (1, 1)"), "conv2d": own},
        "no_stride": {"conv2d": mutate(a1["conv2d"], "top, left = y * stride, x_ * stride", "top, left = y, x_")},
        "raises": {"conv_single_step": mutate(a1["conv_single_step"], "    return float(", f"    {RAISED}\n    return float("),
                   "conv2d": own},
        "hang": {"conv2d": mutate(a1["conv2d"], "    n_images, _, height, width = x.shape",
                                  "    while True:\n        pass\n    n_images, _, height, width = x.shape")},
        "delegate": {"conv2d": header + "    import torch\n    return torch.nn.functional.conv2d(x, w, b)\n"},
        "tamper": {"conv_single_step": mutate(a1["conv_single_step"], "+ bias)", "+ bias + 1)")},
    }[kind]


def graded(course: Path, kind: str) -> tuple[dict, dict]:
    """(submitted notebook, autograded notebook) of a student of ``kind``: the trusted check run
    on the submission, its verdicts recorded as ``TrustedGrading`` records them."""
    from course_utils.grading.flags import METADATA_KEY
    from course_utils.instructor.trusted.answers import AnswerRun
    from course_utils.instructor.trusted.verdict import judge_answers, score_cell

    handed_in = submission(course, ASSIGNMENT, code=code_of(kind))
    results = AnswerRun.start(handed_in, sandboxed=False, case_seconds=1.0, cell_seconds=5.0).judged(judge_answers)
    notebook = copy.deepcopy(handed_in)
    by_cell: dict[str, list] = {}
    for result in results:
        by_cell.setdefault(result.function.test_cell, []).append(result)
    notes = []
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id not in by_cell:
            continue
        points = float(cell["metadata"]["nbgrader"]["points"])
        visible = all(result.visible_passed for result in by_cell[grade_id])
        kernel = points if visible or (kind == "tamper" and grade_id == "test_conv_single_step") else 0.0
        decided = score_cell(grade_id, points, by_cell[grade_id], kernel)
        cell["metadata"][METADATA_KEY] = decided.record()
        if decided.mismatch:
            notes.append(decided.mismatch)
    notebook["metadata"][METADATA_KEY] = {"sandboxed": True, "notes": notes}
    return handed_in, notebook


def build(course: Path) -> dict:
    """Hand in, grade and record the class in ``course`` (a copy of the released course);
    returns ``{"students": id -> kind, "scores": id -> {grade_id: score}}``."""
    from nbgrader.api import Gradebook

    from course_utils.grading.flags import METADATA_KEY

    plan = students()
    kinds = {kind: graded(course, kind) for kind in PLAN}
    scores = {}
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID) as gradebook:
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes inside nbgrader's add_submission
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
        for student in [*plan, *MISSING_IN_GRADEBOOK]:
            first, last = (NAMED[1], NAMED[2]) if student == NAMED[0] else ("First" + student, "Last" + student)
            gradebook.update_or_create_student(student, first_name=first, last_name=last)
        for number, (student, kind) in enumerate(plan.items()):
            handed_in, autograded = kinds[kind]
            for folder, notebook in (("submitted", handed_in), ("autograded", autograded)):
                path = course / folder / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(notebook, indent=1))
            late = datetime.timedelta(days=1 if student in LATE else -1, minutes=number)
            gradebook.add_submission(ASSIGNMENT, student, timestamp=DUE + late)
            scores[student] = {}
            for cell in autograded["cells"]:
                record = cell["metadata"].get(METADATA_KEY)
                if record is None:
                    continue
                grade_id = cell["metadata"]["nbgrader"]["grade_id"]
                grade = gradebook.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
                grade.auto_score = record["score"]
                scores[student][grade_id] = record["score"]
        gradebook.db.commit()
    roster = ["Student,ID,SIS User ID,SIS Login ID,Section"]
    roster += [f'"Last{s}, First{s}",{1000 + k},S{k},{s},A' for k, s in
               enumerate([*plan, *MISSING_IN_GRADEBOOK, MISSING_IN_ROSTER])]
    (course / "roster.csv").write_text("\n".join(roster) + "\n")
    return {"students": plan, "scores": scores}


def class_records(root: Path):
    """The same class as :func:`build` writes it, as the report reads it, without a course:
    (:class:`~course_utils.instructor.report.records.ClassRecords`, student -> submitted notebook).
    ``root`` holds the released assignment (the repository does)."""
    from course_utils.instructor.report.records import ClassRecords, StudentRecord, cell_records, run_record

    plan = students()
    kinds = {kind: graded(root, kind) for kind in PLAN}
    grade_ids = {cell["metadata"]["nbgrader"]["grade_id"] for cell in kinds["right"][1]["cells"]
                 if cell["metadata"].get("nbgrader", {}).get("grade")}
    records, submitted = [], {}
    for student, kind in plan.items():
        handed_in, autograded = kinds[kind]
        cells = cell_records(autograded, grade_ids)
        sandboxed, notes = run_record(autograded)
        records.append(StudentRecord(student, sum(cell["score"] for cell in cells), 10.0,
                                     86400.0 if student in LATE else 0.0, 0.0, cells, notes, sandboxed))
        submitted[student] = handed_in
    enrolled = sorted([*plan, *MISSING_IN_GRADEBOOK, MISSING_IN_ROSTER])
    return ClassRecords(ASSIGNMENT, [ASSIGNMENT], records, enrolled,
                        missing=[*MISSING_IN_GRADEBOOK, MISSING_IN_ROSTER], failed={},
                        names=[NAMED[1], NAMED[2]], duedate=DUE.isoformat(sep=" ")), submitted
