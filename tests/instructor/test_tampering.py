"""Grades an instructor can publish: a submission that attacks the grader scores 0 for what it got
wrong, with its reason, and changes nothing else -- through ``python -m
course_utils.instructor.autograde`` (``make grade``: every submission below) and through
``nbgrader autograde`` with the course's ``nbgrader_config.py`` (the same pipeline: a sample of
honest students and one attack of each kind, :data:`NBGRADER_SAMPLE`).

One released course (``a2_pooling``: relu 2 points, max_pool2d 4, avg_pool2d 4). Every attacker's
``relu`` is wrong (it returns ``x``, or worse) and its cell first tries one trick; ``max_pool2d``
and ``avg_pool2d`` are the instructor's solution, so they show that an attack costs only what it
touched. Honest students get what the partial-credit rules say, the same through both commands.
Checksums of ``solutions/``, every other student's files and the honest students' grade rows are
the same before and after; no process survives; a server on 127.0.0.1 receives nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbgrader_course import (
    COURSE_ID,
    autograded_notebook,
    cell_text,
    cell_with_grade_id,
    copy_course,
    course_env,
    gradebook_scores,
    mutate,
    solution_code,
    submission,
    submit,
)
from sandbox_checks import Listener
from test_autograde import processes_in

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sandbox_works")]

ASSIGNMENT = "a2_pooling"
WRONG_RELU = "\ndef relu(x):\n    return x\n"

#: attacker -> the code of relu's cell (the trick, then a wrong relu). ``{course}`` and
#: ``{port}`` are filled in per course.
ATTACKS = {
    "rebind_grading": 'grading = type("P", (), {"__getattr__": lambda s, n: lambda *a, **k: None})()' + WRONG_RELU,
    "patch_check": "import course_utils.grading as g\ng.check_relu = lambda *a, **k: None\n"
                   "grading.check_relu = lambda *a, **k: None" + WRONG_RELU,
    "patch_judge": "from course_utils.grading import judge, checks\n"
                   "judge.decide = lambda spec, answers: [dict(case=a[0].name, values_right=True, "
                   "dtype_right=True, input_unchanged=True, message=None) for a in answers]\n"
                   "checks.judge = judge" + WRONG_RELU,
    "custom_exc": "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)" + WRONG_RELU,
    "patch_numpy": "import numpy as np\nimport numpy.testing\nnp.allclose = lambda *a, **k: True\n"
                   "np.array_equal = lambda *a, **k: True\n"
                   "np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast_shapes(np.shape(a), np.shape(b)), bool)\n"
                   "np.testing.assert_allclose = lambda *a, **k: None" + WRONG_RELU,
    "patch_builtins": "import builtins\n_real = builtins.isinstance\n"
                      "builtins.isinstance = lambda o, t: True if getattr(t, '__name__', '') == 'ndarray' "
                      "else _real(o, t)" + WRONG_RELU,
    "hidden_torch": "import numpy as np\n"
                    "def relu(x):\n    t = __import__('to' + 'rch')\n"
                    "    return t.relu(t.from_numpy(x)).numpy()\n",
    "hidden_reference": "import base64, importlib, numpy as np\n"
                        "def relu(x):\n"
                        "    ref = importlib.import_module(base64.b64decode('Y291cnNlX3V0aWxzLnJlZmVyZW5jZQ==').decode())\n"
                        "    return ref.relu(x)\n",
    "exec_reference": "import numpy as np\n"
                      "def relu(x):\n    namespace = {}\n"
                      "    exec(bytes.fromhex('66726f6d20636f757273655f7574696c732e7265666572656e636520696d706f72742072656c75').decode(), namespace)\n"
                      "    return namespace['relu'](x)\n",
    "read_solutions": "import json, re\nsolution = None\n"
                      "for path in ['{course}/solutions/a2_pooling/a2_pooling.ipynb', '../../../solutions/a2_pooling/a2_pooling.ipynb']:\n"
                      "    try:\n        cells = json.load(open(path))['cells']\n"
                      "        solution = [''.join(c['source']) for c in cells if c['metadata'].get('nbgrader', {{}}).get('grade_id') == 'relu'][0]\n"
                      "        break\n    except Exception as error:\n        print('cannot read', path, type(error).__name__)\n"
                      "print('solutions readable:', solution is not None)\n"
                      "if solution:\n    exec(solution)\nelse:" + WRONG_RELU.replace("\n", "\n    "),
    "read_other": "import json\nother = None\ntry:\n"
                  "    cells = json.load(open('{course}/submitted/solution/a2_pooling/a2_pooling.ipynb'))['cells']\n"
                  "    other = [''.join(c['source']) for c in cells if c['metadata'].get('nbgrader', {{}}).get('grade_id') == 'relu'][0]\n"
                  "except Exception as error:\n    print('cannot read', type(error).__name__)\n"
                  "print('other submission readable:', other is not None)\n"
                  "if other:\n    exec(other)\nelse:" + WRONG_RELU.replace("\n", "\n    "),
    "write_gradebook": "import sqlite3\ntry:\n    db = sqlite3.connect('{course}/gradebook.db')\n"
                       "    db.execute('UPDATE grade SET manual_score = 0')\n    db.commit()\n"
                       "    print('gradebook written')\nexcept Exception as error:\n"
                       "    print('cannot write the gradebook', type(error).__name__)" + WRONG_RELU,
    "network": "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'stolen')\n"
               "    print('connected')\nexcept OSError as error:\n    print('no network', type(error).__name__)" + WRONG_RELU,
    "fork_bomb": "import os\ntry:\n    while True:\n        os.fork()\nexcept OSError:\n    pass" + WRONG_RELU,
    "memory_bomb": "import numpy as np\ntry:\n    hog = np.ones(int(50e9 / 8))\nexcept MemoryError:\n"
                   "    print('no memory for that')" + WRONG_RELU,
    "disk_filler": "import os\nchunk = b'x' * 2**24\nfor path in ('filler.bin', '/tmp/filler.bin'):\n"
                   "    try:\n        with open(path, 'wb') as handle:\n"
                   "            for _ in range(640):\n                handle.write(chunk)\n"
                   "    except OSError as error:\n        print('cannot fill', path, type(error).__name__)" + WRONG_RELU,
    "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)" + WRONG_RELU,
    "fake_pass": "print('\\N{CHECK MARK} relu: all 4 checks passed (worked numbers; a 3x4 matrix)')" + WRONG_RELU,
    "endless_loop": "def relu(x):\n    while True:\n        pass\n",
    "published_answers": "",  # filled in below: a table of the answers to the published cases
}


def published_answers() -> str:
    """relu as a table of the right answers to every published case (visible and hidden: the
    case lists ship with the course), computed offline with the course's own reference and
    keyed by the input's bytes; any other input gets the wrong ``x`` back."""
    import base64

    import numpy as np
    from course_utils.grading.cases import CHECKS

    check = CHECKS["relu"]
    table = {}
    for case in check.visible() + check.hidden():
        x = np.ascontiguousarray(case.args[0])
        answer = np.ascontiguousarray(check.specs[0].reference(*case.args, **case.kwargs))
        key = hashlib.sha256(repr((x.dtype.str, x.shape)).encode() + x.tobytes()).hexdigest()
        table[key] = (answer.dtype.str, answer.shape, base64.b64encode(answer.tobytes()).decode())
    return ("import base64, hashlib\nimport numpy as np\n"
            f"TABLE = {table!r}\n"
            "def relu(x):\n"
            "    c = np.ascontiguousarray(x)\n"
            "    key = hashlib.sha256(repr((c.dtype.str, c.shape)).encode() + c.tobytes()).hexdigest()\n"
            "    if key in TABLE:\n"
            "        dtype, shape, data = TABLE[key]\n"
            "        return np.frombuffer(base64.b64decode(data), dtype=dtype).reshape(shape).copy()\n"
            "    return x\n")


ATTACKS["published_answers"] = published_answers()


def graded_cell_added(notebook: dict) -> dict:
    """Every test cell claims 100 points, and a new test cell worth 50 that runs ``pass``."""
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade"):
            cell["metadata"]["nbgrader"]["points"] = 100
    bonus = copy.deepcopy(cell_with_grade_id(notebook, "test_relu"))
    bonus.update(id="bonus", source="pass")
    bonus["metadata"]["nbgrader"].update(grade_id="test_bonus", points=50)
    notebook["cells"].insert(1, bonus)
    return notebook


#: attacker -> what it does to the notebook's metadata (its relu is WRONG_RELU).
NOTEBOOK_ATTACKS = {"graded_cell_added": graded_cell_added}
ATTACKERS = tuple(ATTACKS) + tuple(NOTEBOOK_ATTACKS)
FULL = {"relu": 2, "max_pool2d": 4, "avg_pool2d": 4}
#: honest student -> expected points (the partial-credit rules: an equal share per group).
HONEST = {
    "solution": FULL,
    "float64_relu": {"relu": 2 * 3 / 4, "max_pool2d": 4, "avg_pool2d": 4},      # fails dtype only
    "width_from_height": {"relu": 2, "max_pool2d": 4 * 5 / 6, "avg_pool2d": 4},  # fails non-square only
    "no_stride": {"relu": 2, "max_pool2d": 4, "avg_pool2d": 0},                  # wrong almost everywhere
    "pasted_test_cell": FULL,  # pasted relu's test cell below it to run it again (same grade_id twice)
}
#: What ``nbgrader autograde`` grades too: honest students, and one attack of each kind (on the
#: grading code, numpy, the output, delegation, the course's files, the network, a fault, the
#: notebook's metadata, answers looked up). Its pipeline is the one ``make grade`` runs, in another process layout.
NBGRADER_SAMPLE = ("solution", "float64_relu", "pasted_test_cell", "patch_judge", "fake_pass",
                   "hidden_reference", "read_solutions", "network", "endless_loop", "graded_cell_added",
                   "published_answers")
#: command -> the students it grades.
GRADED_BY = {"course_utils": (*HONEST, *ATTACKERS), "nbgrader": NBGRADER_SAMPLE}


def by_command(students, *columns):
    """``(command, student, *row)`` parameters for each command that grades ``student``;
    ``columns``: one more value per student each (the student's row is their values)."""
    rows = list(zip(*columns)) if columns else [()] * len(students)
    return [pytest.param(command, student, *row, id=f"{command}-{student}")
            for student, row in zip(students, rows) for command in GRADED_BY if student in GRADED_BY[command]]


def honest_notebooks(course: Path) -> dict[str, dict]:
    code = solution_code(ASSIGNMENT)
    return {
        "solution": submission(course, ASSIGNMENT),
        "float64_relu": submission(course, ASSIGNMENT, code={
            "relu": "import numpy as np\n\ndef relu(x):\n    return np.maximum(x, 0).astype(np.float64)\n"}),
        "width_from_height": submission(course, ASSIGNMENT, code={"max_pool2d": mutate(
            code["max_pool2d"], "w_out = (width - size) // stride + 1", "w_out = (height - size) // stride + 1")}),
        "no_stride": submission(course, ASSIGNMENT, code={"avg_pool2d": mutate(
            code["avg_pool2d"], "top, left = y * stride, x_ * stride", "top, left = y, x_")}),
        "pasted_test_cell": pasted_test_cell(submission(course, ASSIGNMENT)),
    }


def pasted_test_cell(notebook: dict) -> dict:
    """JupyterLab's copy and paste keeps a cell's metadata: relu's test cell twice in a row."""
    index = notebook["cells"].index(cell_with_grade_id(notebook, "test_relu"))
    notebook["cells"].insert(index + 1, copy.deepcopy(notebook["cells"][index]) | {"id": "pasted"})
    return notebook


def attack_notebook(course: Path, attacker: str, port: int) -> dict:
    if attacker in NOTEBOOK_ATTACKS:
        return NOTEBOOK_ATTACKS[attacker](submission(course, ASSIGNMENT, code={"relu": WRONG_RELU}))
    source = ATTACKS[attacker].replace("{course}", str(course)).replace("{port}", str(port))
    return submission(course, ASSIGNMENT, code={"relu": source})


def checksums(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def build_course(released: Path, folder: Path, port: int, students) -> Path:
    course = copy_course(released, folder)
    notebooks = honest_notebooks(course)
    notebooks.update({attacker: attack_notebook(course, attacker, port) for attacker in ATTACKERS})
    submit(course, ASSIGNMENT, {student: notebooks[student] for student in students})
    return course


def grade(course: Path, command: str) -> subprocess.CompletedProcess:
    if command == "nbgrader":
        args = [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT]
    else:
        args = [sys.executable, "-m", "course_utils.instructor.autograde", ASSIGNMENT, "--jobs", "2"]
    return subprocess.run(args, cwd=course, env=course_env(), capture_output=True, text=True, timeout=1800)


def grade_the_class(command: str, released: Path, folder: Path):
    """The course graded by ``command``: (command, course, the command's output, listener, before)."""
    listener = Listener()
    course = build_course(released, folder, listener.port, GRADED_BY[command])
    before = {"solutions": checksums(course / "solutions"),
              "submitted": checksums(course / "submitted")}
    started = time.perf_counter()
    result = grade(course, command)
    seconds = time.perf_counter() - started
    listener.close()
    print(f"{command}: {len(GRADED_BY[command])} submissions graded in {seconds:.0f} s")
    return command, course, result, listener, before


@pytest.fixture(scope="module")
def graded_by_course_utils(released_course, tmp_path_factory):
    return grade_the_class("course_utils", released_course, tmp_path_factory.mktemp("course_utils") / "course")


@pytest.fixture(scope="module")
def graded_by_nbgrader(released_course, tmp_path_factory):
    return grade_the_class("nbgrader", released_course, tmp_path_factory.mktemp("nbgrader") / "course")


@pytest.fixture
def graded(request, command):
    """The course as ``command`` graded it (each command grades once per module)."""
    return request.getfixturevalue(f"graded_by_{command}")


def scores(course: Path, students) -> dict:
    return gradebook_scores(f"sqlite:///{course / 'gradebook.db'}", students, ASSIGNMENT)


@pytest.mark.parametrize("command", GRADED_BY)
def test_honest_students_get_what_the_partial_credit_rules_say(graded):
    command, course, result, _, _ = graded
    honest = [student for student in HONEST if student in GRADED_BY[command]]
    got = scores(course, honest)
    for student in honest:
        expected = HONEST[student]
        for function, points in expected.items():
            assert got[student][function] == pytest.approx(points, abs=1e-3), (command, student, function, result.stderr[-3000:])


@pytest.mark.parametrize("command, attacker", by_command(ATTACKERS))
def test_every_attack_scores_zero_for_the_wrong_function_and_costs_nothing_else(graded, attacker):
    command, course, result, _, _ = graded
    got = scores(course, [attacker])[attacker]
    assert got["relu"] == 0, (command, attacker, got)
    if attacker not in ("patch_builtins",):  # lying builtins break the student's own later code too
        # the tricks do not stop the other functions from being graded (each checked in a
        # process that runs only the code above its own test cell; statements run one by one)
        assert got["max_pool2d"] == 4 and got["avg_pool2d"] == 4, (command, attacker, got)


#: Attacks on the grading code that make the kernel's own test cell pass; the others do not even
#: fool it (the kernel's test cell fails too, and no one suspects anything).
FOOL_THE_KERNEL = ("rebind_grading", "patch_check", "patch_judge")
FOOL_NOTHING = ("custom_exc", "patch_builtins", "fake_pass")


@pytest.mark.parametrize("command, attacker", by_command(FOOL_THE_KERNEL))
def test_a_test_cell_that_passed_in_the_kernel_but_not_in_the_trusted_check_is_reported(graded, attacker):
    command, course, result, _, _ = graded
    recorded = cell_with_grade_id(autograded_notebook(course, attacker, ASSIGNMENT), "test_relu")["metadata"]["course_grading"]
    assert recorded["kernel_score"] == 2 and recorded["score"] == 0
    suspected = "tampering suspected: test cell test_relu passed in the kernel, trusted check failed (0/2)"
    assert recorded["mismatch"] == suspected
    if command == "nbgrader":
        assert f"{attacker}: {suspected}" in result.stdout + result.stderr
    else:
        line = next(line for line in result.stdout.splitlines() if line.startswith(f"{attacker}:"))
        assert line.startswith(f"{attacker}: 8/10 in ") and f"({suspected})" in line, line
        record = json.loads((course / ".autograde" / ASSIGNMENT / f"{attacker}.json").read_text())
        assert record["notes"] == [suspected]


@pytest.mark.parametrize("command, attacker", by_command(FOOL_NOTHING))
def test_a_trick_that_fools_not_even_the_kernel_is_simply_wrong(graded, attacker):
    command, course, result, _, _ = graded
    recorded = cell_with_grade_id(autograded_notebook(course, attacker, ASSIGNMENT), "test_relu")["metadata"]["course_grading"]
    assert recorded["kernel_score"] == 0 and recorded["score"] == 0 and recorded["mismatch"] is None
    output = result.stdout + result.stderr
    assert f"{attacker}: tampering suspected" not in output
    if command == "course_utils":
        assert re.search(rf"^{attacker}: [0-9.]+/10 in \d+\.\d s$", result.stdout, re.MULTILINE), result.stdout


@pytest.mark.parametrize("command", GRADED_BY)
def test_points_and_graded_cells_come_from_the_release_not_the_submission(graded):
    command, course, result, _, _ = graded
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID) as gradebook:
        for student in ("graded_cell_added", "pasted_test_cell"):
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            assert notebook.max_score == sum(FULL.values()), (command, student, notebook.max_score)
            assert sorted(grade.name for grade in notebook.grades) == sorted(f"test_{f}" for f in FULL)
            output = result.stdout + result.stderr
            assert f"{student}: FAILED" not in output and f"for student '{student}'" not in output, output[-3000:]


@pytest.mark.parametrize("command", GRADED_BY)
def test_the_feedback_shows_the_trusted_message_never_the_hidden_tests(graded):
    command, course, _, _, _ = graded
    relu_test = cell_with_grade_id(autograded_notebook(course, "fake_pass", ASSIGNMENT), "test_relu")
    text = cell_text(relu_test)
    assert "relu: 0 of 4 groups of checks pass" in text
    assert "relu failed the check 'worked numbers [-2, -0.5, 0, 0.5, 2]': wrong values" in text
    assert "hidden=True" not in text and "_relu_hidden" not in text


@pytest.mark.parametrize("command, attacker, words", by_command(
    ["hidden_torch", "hidden_reference", "exec_reference"], ["torch", "course_utils", "course_utils"]))
def test_delegation_however_spelled_fails_in_the_checking_process(graded, attacker, words):
    command, course, _, _, _ = graded
    text = cell_text(cell_with_grade_id(autograded_notebook(course, attacker, ASSIGNMENT), "test_relu"))
    assert ("DelegationError" in text or "ModuleNotFoundError" in text) and words in text, text[:2000]


@pytest.mark.parametrize("command, attacker, refused", by_command(
    ["read_solutions", "read_other", "write_gradebook", "network"],
    ["solutions readable: False", "other submission readable: False", "cannot write the gradebook", "no network"]))
def test_the_kernel_sees_nothing_of_the_course_and_no_network(graded, attacker, refused):
    command, course, _, _, _ = graded
    relu_cell = cell_with_grade_id(autograded_notebook(course, attacker, ASSIGNMENT), "relu")
    assert refused in cell_text(relu_cell), cell_text(relu_cell)


@pytest.mark.parametrize("command", GRADED_BY)
def test_nothing_outside_the_grader_changed(graded):
    command, course, result, listener, before = graded
    assert listener.connections == 0
    assert checksums(course / "solutions") == before["solutions"]
    assert checksums(course / "submitted") == before["submitted"]
    assert not processes_in(course), processes_in(course)
    import sqlite3

    with sqlite3.connect(course / "gradebook.db") as db:
        manual = db.execute("SELECT COUNT(*) FROM grade WHERE manual_score IS NOT NULL").fetchone()[0]
    assert manual == 0
    orphans = [path.name for path in Path("/sys/fs/cgroup/pids").glob("course-sandbox-*")
               if not Path("/proc", path.name.split("-")[2]).exists()]
    assert not orphans, f"sandbox cgroups left behind by finished processes: {orphans}"


@pytest.mark.parametrize("command", GRADED_BY)
def test_a_function_that_never_returns_scores_zero_with_one_plain_reason(graded):
    command, course, _, _, _ = graded
    assert scores(course, ["endless_loop"])["endless_loop"] == {"relu": 0, "max_pool2d": 4, "avg_pool2d": 4}
    text = " ".join(cell_text(cell_with_grade_id(autograded_notebook(course, "endless_loop", ASSIGNMENT),
                                                 "test_relu")).split())
    assert text.startswith("CheckFailed: ✗ relu: 0 of 4 groups of checks pass")
    assert ("relu was stopped: still running after 6 s while running case worked numbers [-2, -0.5, 0, 0.5, 2]. "
            "A right answer takes well under a second: look for a loop that never ends.") in text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text


@pytest.mark.parametrize("command", ["course_utils"])
def test_killing_the_grader_from_a_cell_is_refused_and_costs_only_the_wrong_function(graded):
    command, course, result, _, _ = graded
    # the kernel's parent inside its sandbox is the sandbox's own init, which the signal cannot
    # end; in the checking process the call is refused: the cells after it run either way
    assert scores(course, ["kill_parent"])["kill_parent"] == {"relu": 0, "max_pool2d": 4, "avg_pool2d": 4}
    text = " ".join(cell_text(cell_with_grade_id(autograded_notebook(course, "kill_parent", ASSIGNMENT),
                                                 "test_relu")).split())
    assert "relu failed the check 'worked numbers [-2, -0.5, 0, 0.5, 2]': wrong values." in text
    assert "note: cell 4: PermissionError: os.kill refused while a function is checked" in text
    assert re.search(r"^kill_parent: 8/10 in \d+\.\d s$", result.stdout, re.MULTILINE), result.stdout


@pytest.mark.parametrize("command", GRADED_BY)
def test_both_commands_give_the_same_grades(graded, tmp_path_factory):
    command, course, _, _, _ = graded
    results = tmp_path_factory.getbasetemp() / "tampering-scores"
    results.mkdir(exist_ok=True)
    mine = scores(course, NBGRADER_SAMPLE)  # graded by both
    (results / f"{command}.json").write_text(json.dumps(mine, sort_keys=True))
    others = [json.loads(path.read_text()) for path in results.glob("*.json") if path.stem != command]
    for other in others:
        assert other == mine
