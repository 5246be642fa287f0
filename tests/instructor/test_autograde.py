"""The parallel autograde (``python -m course_utils.instructor.autograde``) on real nbgrader runs.

Its gradebook and autograded notebooks are compared with serial ``nbgrader autograde`` of the
same submissions (the test class, ``graded_class``: ``class_submissions.py``). The other tests
work on their own copies of the released course (``a2_pooling``) with fake students:

=========  ===============================================================================
student    a2_pooling submission
=========  ===============================================================================
solution   the instructor's solution
blank      the release as is
bug        max_pool2d forgets the stride
cheat      relu returns wrong values and first patches numpy's comparison functions
           (``allclose``, ``isclose``, ``array_equal``, ``testing.assert_*``) to say "equal":
           its kernel's test cell passes, the trusted check does not ("tampering suspected")
crash      relu's cell ends the kernel's process (``os._exit(1)``): graded 0, with the reason
slow       every solution cell sleeps 4 s: under the 20 s cell timeout, over ``--timeout 8``
flood      relu's cell prints 100,000 lines (8 MB) before defining relu
=========  ===============================================================================
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from class_submissions import CHEAT, EXPECTED
from nbgrader_course import (
    COURSE_ID,
    POINTS,
    autograded_notebook,
    cell_text,
    cell_with_grade_id,
    copy_course,
    course_env,
    gradebook_scores,
    mutate,
    nbgrader,
    new_course,
    solution_code,
    submission,
    submit,
)
from postgres_server import INSTALL_HINT, PostgresServer, find_bin_dir

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sandbox_works")]

ASSIGNMENT = "a2_pooling"
SCORES = EXPECTED[ASSIGNMENT]  # student -> function -> points


def notebooks(course: Path, students) -> dict[str, dict]:
    code = solution_code(ASSIGNMENT)
    slow = {grade_id: "import time\ntime.sleep(4)\n" + source for grade_id, source in code.items()}
    every = {
        "solution": lambda: submission(course, ASSIGNMENT),
        "blank": lambda: submission(course, ASSIGNMENT, solved=False),
        "bug": lambda: submission(course, ASSIGNMENT, code={"max_pool2d": mutate(
            code["max_pool2d"], "top, left = y * stride, x_ * stride", "top, left = y, x_")}),
        "cheat": lambda: submission(course, ASSIGNMENT, code={"relu": CHEAT}),
        "crash": lambda: submission(course, ASSIGNMENT, code={"relu": "import os\nos._exit(1)\n"}),
        "slow": lambda: submission(course, ASSIGNMENT, code=slow),
        "flood": lambda: submission(course, ASSIGNMENT, code={
            "relu": "for line in range(100_000):\n    print('all work and no play ' * 4)\n" + code["relu"]}),
    }
    return {student: every[student]() for student in students}


@pytest.fixture(scope="module")
def released(released_course):
    return released_course


def course_copy(released: Path, tmp_path: Path, name: str, students) -> Path:
    course = copy_course(released, tmp_path / name)
    submit(course, ASSIGNMENT, notebooks(course, students))
    return course


def class_copy(released: Path, graded_class: dict, folder: Path, students, assignments=(ASSIGNMENT,)) -> Path:
    """A fresh copy of the course holding exactly what the test class handed in for
    ``assignments`` (the same files serial nbgrader graded in ``graded_class``)."""
    course = copy_course(released, folder)
    for assignment in assignments:
        for student in students:
            shutil.copytree(graded_class["path"] / "submitted" / student / assignment,
                            course / "submitted" / student / assignment)
    return course


def parallel_autograde(course: Path, *args: str, db_url: str | None = None, timeout: float = 600,
                       assignments=(ASSIGNMENT,)):
    result = subprocess.run(
        [sys.executable, "-m", "course_utils.instructor.autograde", *assignments, *args], cwd=course,
        env=course_env(db_url), capture_output=True, text=True, timeout=timeout,
    )
    return result


@pytest.fixture
def scratch(monkeypatch):
    """The temporary folder (TMPDIR) of the runs a test starts: a student's answers and cases go
    there while they are checked, and each run must leave it empty whatever happened to the
    students. Short, as an instructor's usually is (a kernel's socket paths must fit)."""
    folder = Path(tempfile.mkdtemp(prefix="autograde-test-", dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def record(course: Path, student: str) -> dict:
    return json.loads((course / ".autograde" / ASSIGNMENT / f"{student}.json").read_text())


def processes_in(course: Path) -> list[str]:
    """Command lines of the processes whose working folder is inside ``course`` (nbgrader runs
    each kernel in the notebook's folder)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(proc / "cwd")).is_relative_to(course):
                found.append((proc / "cmdline").read_text().replace("\0", " "))
        except OSError:
            continue
    return found


def sqlite(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


# --- what "the same result" means -----------------------------------------------------------

def gradebook_grades(db_url: str) -> dict[tuple, tuple]:
    """(student, notebook, grade cell) -> (auto score, manual score, max score), every submission."""
    from nbgrader.api import Gradebook

    grades = {}
    with Gradebook(db_url, course_id=COURSE_ID) as gb:
        for submitted in gb.find_assignment(ASSIGNMENT).submissions:
            for notebook in submitted.notebooks:
                for grade in notebook.grades:
                    grades[(submitted.student_id, notebook.name, grade.name)] = (
                        grade.auto_score, grade.manual_score, grade.max_score)
    return grades


def comparable(notebook: dict, course: Path) -> list:
    """Cell types, sources and outputs; no metadata (timestamps, execution timing) and the
    course folder and kernel process ids replaced, so two courses' notebooks can be compared."""

    def clean(text):
        text = text if isinstance(text, str) else "".join(text)
        return re.sub(r"ipykernel_\d+", "ipykernel_PID", text.replace(str(course), "COURSE"))

    cells = []
    for cell in notebook["cells"]:
        outputs = []
        for output in cell.get("outputs", []):
            output = {key: (clean(value) if key == "text" else [clean(line) for line in value]
                            if key == "traceback" else {kind: clean(data) for kind, data in value.items()}
                            if key == "data" else value)
                      for key, value in output.items() if key not in ("metadata", "transient")}
            previous = outputs[-1] if outputs else {}
            if output["output_type"] == "stream" and previous.get("output_type") == "stream" \
                    and previous["name"] == output["name"]:
                previous["text"] += output["text"]  # how printed text is split into messages varies
            else:
                outputs.append(output)
        cells.append((cell["cell_type"], clean(cell["source"]), cell.get("execution_count"), outputs))
    return cells


# --- the tests -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def serial_and_parallel(released, graded_class, tmp_path_factory):
    """Four of the test class's submissions: graded by serial nbgrader (in ``graded_class``) and
    by the parallel autograde (here)."""
    students = ("solution", "blank", "bug", "cheat")
    serial = graded_class["path"]
    parallel = class_copy(released, graded_class, tmp_path_factory.mktemp("equivalence") / "parallel", students)
    result = parallel_autograde(parallel, "--jobs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    return serial, parallel, students, result.stdout


def test_parallel_autograde_leaves_the_same_gradebook_and_notebooks_as_serial_nbgrader(serial_and_parallel):
    serial, parallel, students, _ = serial_and_parallel
    serial_grades = {key: grade for key, grade in gradebook_grades(sqlite(serial)).items() if key[0] in students}
    assert len(serial_grades) == len(students) * len(POINTS[ASSIGNMENT])
    assert gradebook_grades(sqlite(parallel)) == serial_grades
    for student in students:
        assert comparable(autograded_notebook(parallel, student, ASSIGNMENT), parallel) == comparable(
            autograded_notebook(serial, student, ASSIGNMENT), serial), student
    assert gradebook_scores(sqlite(parallel), students, ASSIGNMENT) == {s: SCORES[s] for s in students}


def test_progress_prints_one_line_per_student_and_a_summary(serial_and_parallel):
    _, _, students, stdout = serial_and_parallel
    for student in students:
        total = sum(SCORES[student].values())
        assert re.search(rf"^{student}: {total:g}/10 in \d+\.\d s( \(.*\))?$", stdout, re.MULTILINE), stdout
    # the cheat's test cell passed in its kernel, not in the trusted check: the line says so
    assert re.search(r"^cheat: 8/10 in \d+\.\d s \(tampering suspected: test cell test_relu passed in the "
                     r"kernel, trusted check failed \(0/2\)\)$", stdout, re.MULTILINE), stdout
    assert re.search(r"^graded 4, failed 0 in \d+\.\d s, \d+\.\d s per submission", stdout, re.MULTILINE)


def test_patching_numpys_comparisons_does_not_make_a_wrong_answer_pass(serial_and_parallel):
    _, parallel, _, _ = serial_and_parallel
    assert gradebook_scores(sqlite(parallel), ["cheat"], ASSIGNMENT)["cheat"]["relu"] == 0
    cell = cell_with_grade_id(autograded_notebook(parallel, "cheat", ASSIGNMENT), "test_relu")
    output = " ".join(cell_text(cell).split())
    assert "CheckFailed" in output and "relu failed the check" in output and "wrong values" in output
    assert "expected 0, got 0.5" in output  # the message is as helpful as before


def test_a_crash_a_hang_and_a_flood_each_fail_alone_with_the_reason_recorded(released, tmp_path, scratch):
    course = course_copy(released, tmp_path, "isolation", ("solution", "crash", "slow", "flood"))
    start = time.perf_counter()
    result = parallel_autograde(course, "--jobs", "2", "--timeout", "8")
    seconds = time.perf_counter() - start
    assert result.returncode == 1, result.stdout + result.stderr  # some failed
    assert "graded 3, failed 1" in result.stdout
    assert record(course, "solution")["score"] == 10
    # the kernel died in relu's cell: the cells from there on fail (each function's trusted check
    # runs the code above its test cell, which exits too), the submission is graded, and says so
    crash = record(course, "crash")
    assert crash["status"] == "graded" and crash["score"] == 0
    assert "cell relu: the kernel died there; the cells after it were not run" in crash["notes"]
    slow = record(course, "slow")
    assert slow["status"] == "failed" and "still running after 8 s" in slow["reason"]
    assert 8 <= slow["seconds"] < 18
    flood = record(course, "flood")  # graded, its output cut to 200 lines by LimitOutput
    assert flood["status"] == "graded" and flood["score"] == 10
    assert flood["notes"] == ["cell relu: output cut to the first lines"]
    relu_cell = cell_with_grade_id(autograded_notebook(course, "flood", ASSIGNMENT), "relu")
    assert cell_text(relu_cell).count("\n") < 250
    assert seconds < 70  # the hang was stopped, not waited for
    assert not processes_in(course), "the stopped submission left processes behind"
    assert not list(scratch.iterdir()), "the stopped submission left its files behind"


def test_an_interrupted_run_keeps_what_was_graded_and_a_rerun_grades_only_the_rest(released, tmp_path, scratch):
    students = ("solution", "blank", "bug", "cheat")
    course = course_copy(released, tmp_path, "resume", students)
    records = course / ".autograde" / ASSIGNMENT
    process = subprocess.Popen(
        [sys.executable, "-m", "course_utils.instructor.autograde", ASSIGNMENT, "--jobs", "1"], cwd=course,
        env=course_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 120
    while not list(records.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    finished = sorted(path.stem for path in records.glob("*.json"))
    assert process.returncode == 130 and "interrupted" in output, output
    assert 1 <= len(finished) < len(students)
    assert not processes_in(course)  # the student in flight was stopped, kernel included
    assert not list(scratch.iterdir()), "the stopped student's checking and kernel folders must go"

    rerun = parallel_autograde(course, "--jobs", "2")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"{len(finished)} of 4 already done" in rerun.stdout
    regraded = {line.split(":")[0] for line in rerun.stdout.splitlines() if re.match(r"^\w+: \d", line)}
    assert regraded == set(students) - set(finished)
    assert gradebook_scores(sqlite(course), students, ASSIGNMENT) == {s: SCORES[s] for s in students}

    nothing = parallel_autograde(course)
    assert "4 of 4 already done" in nothing.stdout and "graded 0, failed 0" in nothing.stdout
    resubmitted = course / "submitted" / "bug" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    os.utime(resubmitted, (time.time() + 5, time.time() + 5))  # the student handed in again
    again = parallel_autograde(course, "--redo", "--student", "solution")
    assert "graded 1, failed 0" in again.stdout and re.search(r"^solution: 10/10", again.stdout, re.MULTILINE)
    changed = parallel_autograde(course)
    assert "graded 1, failed 0" in changed.stdout and re.search(r"^bug: 6/10", changed.stdout, re.MULTILINE)


def test_one_run_grades_several_assignments_as_serial_nbgrader_does_and_stops_every_kernel(
        released, graded_class, tmp_path):
    students = ("solution", "bug")
    a1 = "a1_convolution"
    serial = graded_class["path"]
    parallel = class_copy(released, graded_class, tmp_path / "parallel", students, (a1, ASSIGNMENT))
    result = parallel_autograde(parallel, "--jobs", "2", assignments=(a1, ASSIGNMENT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "graded 4, failed 0" in result.stdout
    for assignment in (a1, ASSIGNMENT):
        expected = gradebook_scores(sqlite(serial), students, assignment)
        assert gradebook_scores(sqlite(parallel), students, assignment) == expected
        for student in students:
            total = sum(expected[student].values())
            assert re.search(rf"^{student} \({assignment}\): {total:g}/10 in", result.stdout, re.MULTILINE)
            assert json.loads((parallel / ".autograde" / assignment / f"{student}.json").read_text())["score"] == total
    assert gradebook_scores(sqlite(parallel), ["bug"], a1)["bug"]["zero_pad"] < 2  # the bug was seen
    assert not processes_in(parallel), "kernels stopped in the background must still be gone"


def test_an_unknown_assignment_or_student_stops_the_run_with_a_message(released, tmp_path):
    course = course_copy(released, tmp_path, "unknown", ("solution",))
    for assignments in (("a9_missing",), (ASSIGNMENT, "a9_missing")):
        unknown = parallel_autograde(course, assignments=assignments)
        assert unknown.returncode != 0 and "does not know assignment 'a9_missing'" in unknown.stderr, assignments
    nobody = parallel_autograde(course, "--student", "nobody")
    assert nobody.returncode != 0 and f"no submission of {ASSIGNMENT} from nobody" in nobody.stderr
    assert not (course / ".autograde" / ASSIGNMENT).exists()  # nothing was graded
    assert not processes_in(course)
    # several assignments: a student named grades where they handed in, and the rest is said
    partly = parallel_autograde(course, "--student", "solution", assignments=(ASSIGNMENT, "a1_convolution"))
    assert partly.returncode == 0, partly.stdout + partly.stderr
    assert "no submission of a1_convolution from solution" in partly.stdout
    assert re.search(rf"^solution \({ASSIGNMENT}\): 10/10 in", partly.stdout, re.MULTILINE)
    assert "graded 1, failed 0" in partly.stdout


# --- PostgreSQL --------------------------------------------------------------------------------

@pytest.fixture
def postgres():
    bin_dir = find_bin_dir()
    if bin_dir is None:
        message = f"the PostgreSQL gradebook test needs Debian's PostgreSQL server. {INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with PostgresServer(bin_dir) as server:
        yield server


@pytest.mark.postgres
def test_the_course_runs_on_a_postgresql_gradebook(postgres, tmp_path):
    url = postgres.create_database("cnn_course")
    course = new_course(tmp_path / "course", db_url=url)  # generate_assignment writes to PostgreSQL
    students = ("solution", "bug", "cheat")
    submit(course, ASSIGNMENT, notebooks(course, students))
    result = parallel_autograde(course, "--jobs", "2", db_url=url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (course / "gradebook.db").exists()  # nothing went to SQLite
    assert gradebook_scores(url, students, ASSIGNMENT) == {s: SCORES[s] for s in students}
    nbgrader(course, "export", db_url=url)
    assert (course / "grades.csv").read_text().count(ASSIGNMENT) == len(students)


def test_without_bubblewrap_grading_stops_and_says_how_to_install_it_unless_no_sandbox(released, tmp_path):
    course = course_copy(released, tmp_path, "nobwrap", ("solution", "cheat"))
    env = {**course_env(), "COURSE_BWRAP": str(tmp_path / "no-bwrap-here")}
    stopped = subprocess.run([sys.executable, "-m", "course_utils.instructor.autograde", ASSIGNMENT],
                             cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert stopped.returncode != 0
    said = stopped.stdout + stopped.stderr
    assert "apt-get install bubblewrap" in said and "--no-sandbox" in said
    assert not (course / ".autograde" / ASSIGNMENT).exists()  # nothing was graded

    serial = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=course,
                            env=env, capture_output=True, text=True, timeout=300)
    assert "apt-get install bubblewrap" in serial.stdout + serial.stderr
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(sqlite(course), course_id=COURSE_ID) as gradebook:  # nothing was graded
        with pytest.raises(MissingEntry):
            gradebook.find_submission(ASSIGNMENT, "solution")

    partial = subprocess.run([sys.executable, "-m", "course_utils.instructor.autograde", ASSIGNMENT,
                              "--jobs", "2", "--no-sandbox"], cwd=course, env=env,
                             capture_output=True, text=True, timeout=600)
    assert partial.returncode == 0, partial.stdout + partial.stderr
    lines = [line for line in partial.stdout.splitlines() if line.startswith(("solution:", "cheat:"))]
    assert len(lines) == 2 and all("no sandbox: tampering protection is partial" in line for line in lines)
    scores = gradebook_scores(sqlite(course), ["solution", "cheat"], ASSIGNMENT)
    assert scores == {student: SCORES[student] for student in ("solution", "cheat")}  # trusted all the same
