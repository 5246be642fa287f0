"""Grades an instructor can publish: a submission that attacks the grader scores 0 for what it got
wrong, with its reason, and changes nothing else -- through ``nbgrader autograde`` with the
course's ``nbgrader_config.py`` and through ``python -m course_utils.instructor.autograde``.

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
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from nbgrader_course import (
    COURSE_ID,
    autograded_notebook,
    cell_text,
    course_env,
    gradebook_scores,
    mutate,
    new_course,
    solution_code,
    submission,
    submit,
)
from test_autograde import processes_in

pytestmark = pytest.mark.slow

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
}


def graded_cell_added(notebook: dict) -> dict:
    """Every test cell claims 100 points, and a new test cell worth 50 that runs ``pass``."""
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade"):
            cell["metadata"]["nbgrader"]["points"] = 100
    bonus = copy.deepcopy(next(cell for cell in notebook["cells"]
                               if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_relu"))
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
    index = next(index for index, cell in enumerate(notebook["cells"])
                 if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_relu")
    notebook["cells"].insert(index + 1, copy.deepcopy(notebook["cells"][index]) | {"id": "pasted"})
    return notebook


def attack_notebook(course: Path, attacker: str, port: int) -> dict:
    if attacker in NOTEBOOK_ATTACKS:
        return NOTEBOOK_ATTACKS[attacker](submission(course, ASSIGNMENT, code={"relu": WRONG_RELU}))
    source = ATTACKS[attacker].replace("{course}", str(course)).replace("{port}", str(port))
    return submission(course, ASSIGNMENT, code={"relu": source})


class Listener:
    """A TCP server on 127.0.0.1 that records whether anyone connected."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
                self.connections += 1
                connection.close()
            except OSError:
                continue

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


def checksums(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def build_course(tmp_path: Path, name: str, port: int) -> Path:
    course = new_course(tmp_path / name, assignments=[ASSIGNMENT])
    notebooks = honest_notebooks(course)
    notebooks.update({attacker: attack_notebook(course, attacker, port) for attacker in ATTACKERS})
    submit(course, ASSIGNMENT, notebooks)
    return course


def grade(course: Path, command: str) -> subprocess.CompletedProcess:
    if command == "nbgrader":
        args = [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT]
    else:
        args = [sys.executable, "-m", "course_utils.instructor.autograde", ASSIGNMENT, "--jobs", "2"]
    return subprocess.run(args, cwd=course, env=course_env(), capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module", params=["nbgrader", "course_utils"])
def graded(request, tmp_path_factory):
    """The course graded by one command: (course, the command's output, listener, before)."""
    listener = Listener()
    course = build_course(tmp_path_factory.mktemp(request.param), "course", listener.port)
    before = {"solutions": checksums(course / "solutions"),
              "submitted": checksums(course / "submitted")}
    started = time.perf_counter()
    result = grade(course, request.param)
    seconds = time.perf_counter() - started
    listener.close()
    print(f"{request.param}: {len(ATTACKERS) + len(HONEST)} submissions graded in {seconds:.0f} s")
    yield request.param, course, result, listener, before


def scores(course: Path, students) -> dict:
    return gradebook_scores(f"sqlite:///{course / 'gradebook.db'}", students, ASSIGNMENT)


def test_honest_students_get_what_the_partial_credit_rules_say(graded):
    command, course, result, _, _ = graded
    got = scores(course, HONEST)
    for student, expected in HONEST.items():
        for function, points in expected.items():
            assert got[student][function] == pytest.approx(points, abs=1e-3), (command, student, function, result.stderr[-3000:])


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_every_attack_scores_zero_for_the_wrong_function_and_costs_nothing_else(graded, attacker):
    command, course, result, _, _ = graded
    got = scores(course, [attacker])[attacker]
    assert got["relu"] == 0, (command, attacker, got)
    if attacker not in ("patch_builtins",):  # lying builtins break the student's own later code too
        # the tricks do not stop the other functions from being graded (each checked in a
        # process that runs only the code above its own test cell; statements run one by one)
        assert got["max_pool2d"] == 4 and got["avg_pool2d"] == 4, (command, attacker, got)


@pytest.mark.parametrize("attacker", ["rebind_grading", "patch_check", "patch_judge", "custom_exc",
                                      "patch_builtins", "fake_pass"])
def test_a_test_cell_that_passed_in_the_kernel_but_not_in_the_trusted_check_is_reported(graded, attacker):
    command, course, result, _, _ = graded
    notebook = autograded_notebook(course, attacker, ASSIGNMENT)
    relu_test = next(cell for cell in notebook["cells"]
                     if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_relu")
    mismatch = relu_test["metadata"]["course_grading"]["mismatch"]
    if mismatch is None:  # the trick did not even fool the kernel's own check
        assert relu_test["metadata"]["course_grading"]["kernel_score"] == 0
        return
    assert mismatch.startswith("tampering suspected: test cell test_relu passed in the kernel, trusted check failed")
    output = result.stdout + result.stderr
    if command == "nbgrader":
        assert f"{attacker}: tampering suspected: test cell test_relu passed in the kernel" in output
    else:
        line = next(line for line in result.stdout.splitlines() if line.startswith(f"{attacker}:"))
        assert "tampering suspected" in line
        record = json.loads((course / ".autograde" / ASSIGNMENT / f"{attacker}.json").read_text())
        assert any("tampering suspected" in note for note in record["notes"])


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


def test_the_feedback_shows_the_trusted_message_never_the_hidden_tests(graded):
    command, course, _, _, _ = graded
    notebook = autograded_notebook(course, "fake_pass", ASSIGNMENT)
    relu_test = next(cell for cell in notebook["cells"]
                     if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_relu")
    text = cell_text(relu_test)
    assert "relu: 0 of 4 groups of checks pass" in text
    assert "relu failed the check 'worked numbers [-2, -0.5, 0, 0.5, 2]': wrong values" in text
    assert "hidden=True" not in text and "_relu_hidden" not in text


@pytest.mark.parametrize("attacker, words", [
    ("hidden_torch", "torch"), ("hidden_reference", "course_utils"), ("exec_reference", "course_utils")])
def test_delegation_however_spelled_fails_in_the_checking_process(graded, attacker, words):
    command, course, _, _, _ = graded
    notebook = autograded_notebook(course, attacker, ASSIGNMENT)
    relu_test = next(cell for cell in notebook["cells"]
                     if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_relu")
    text = cell_text(relu_test)
    assert ("DelegationError" in text or "ModuleNotFoundError" in text) and words in text, text[:2000]


@pytest.mark.parametrize("attacker, refused", [
    ("read_solutions", "solutions readable: False"),
    ("read_other", "other submission readable: False"),
    ("write_gradebook", "cannot write the gradebook"),
    ("network", "no network"),
])
def test_the_kernel_sees_nothing_of_the_course_and_no_network(graded, attacker, refused):
    command, course, _, _, _ = graded
    notebook = autograded_notebook(course, attacker, ASSIGNMENT)
    relu_cell = next(cell for cell in notebook["cells"]
                     if cell["metadata"].get("nbgrader", {}).get("grade_id") == "relu")
    assert refused in cell_text(relu_cell), cell_text(relu_cell)


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


@pytest.mark.parametrize("attacker, reason", [
    ("endless_loop", "stopped"),
    ("kill_parent", "relu"),
])
def test_a_fault_is_reported_with_its_reason(graded, attacker, reason):
    command, course, _, _, _ = graded
    notebook = autograded_notebook(course, attacker, ASSIGNMENT)
    relu_test = next(cell for cell in notebook["cells"]
                     if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_relu")
    assert reason in cell_text(relu_test), cell_text(relu_test)[:2000]


def test_both_commands_give_the_same_grades(graded, tmp_path_factory):
    command, course, _, _, _ = graded
    results = tmp_path_factory.getbasetemp() / "tampering-scores"
    results.mkdir(exist_ok=True)
    mine = scores(course, [*HONEST, *ATTACKERS])
    (results / f"{command}.json").write_text(json.dumps(mine, sort_keys=True))
    others = [json.loads(path.read_text()) for path in results.glob("*.json") if path.stem != command]
    for other in others:
        assert other == mine
