"""The hidden cases the trusted check grades on are drawn from a seed of the submission's own code
(``Check.hidden_cases(seed)``, ``trusted.answers.submission_seed``): the published case lists ship
with the course, so a notebook could otherwise hold a table of their answers.

* Drawn from any seed, they are the published cases by name and kind with other values, after
  the worked example again with other numbers: every group of points has a case a table of the
  published answers cannot know.
* Whatever the seed, the instructor's solutions and twenty honest solutions written in other
  styles (loops, im2col, einsum, stride tricks; ``tests/instructor/honest_solutions.py``) pass
  every case: no seed costs an honest student a point (a float32 sum near zero once did).
* A table of the published answers earns nothing for any function.
* The seed is the same for the same code (serial and parallel grading agree) and changes with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from course_utils.grading.cases import CHECKS
from course_utils.grading.compare import judge_case
from course_utils.grading.scoring import score
from course_utils.grading.specs import PROPERTY_GROUPS, WORKED_EXAMPLE
from course_utils.instructor.trusted.answers import submission_seed
from solution_checks import solution_functions

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "instructor"))
from honest_solutions import FUNCTIONS, cell_code, honest_solutions  # noqa: E402

SEEDS = [7919 * k + 3 for k in range(25)]


def arrays_of(case) -> list[np.ndarray]:
    return [value for value in (*case.args, *case.kwargs.values()) if isinstance(value, np.ndarray)]


def judged(check, function, cases) -> list[list]:
    """``(case, judgment)`` pairs per output, as the trusted check judges them."""
    pairs = [[] for _ in check.specs]
    for case in cases:
        args = tuple(value.copy() if isinstance(value, np.ndarray) else value for value in case.args)
        got = function(*args, **case.kwargs)
        for index, spec in enumerate(check.specs):
            answer = got[index] if check.outputs else got
            pairs[index].append((case, judge_case(spec, case, answer, args, dict(case.kwargs))))
    return pairs


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_seeded_hidden_cases_are_the_published_ones_with_other_values(name):
    check = CHECKS[name]
    published = check.hidden_cases()
    assert [case.name for case in published] == [case.name for case in check.hidden()]
    for seed in SEEDS[:3]:
        seeded = check.hidden_cases(seed)
        again = [case for case in seeded if case.name == "the worked example's shapes, other numbers"]
        assert [case.name for case in seeded[len(again):]] == [case.name for case in published]
        assert all(case.group == WORKED_EXAMPLE for case in again)
        for old, new in zip(published, seeded[len(again):]):
            pairs = list(zip(arrays_of(old), arrays_of(new)))
            assert all(before.dtype == after.dtype for before, after in pairs), (name, old.name)
            assert not pairs or any(before.shape != after.shape or not np.array_equal(before, after)
                                    for before, after in pairs), (name, old.name)
        value_groups = {check.group_of(case) for case in seeded}
        assert value_groups >= set(check.groups) - set(PROPERTY_GROUPS), \
            f"{name}: a group with no seeded case could be earned from the published answers"
    first, second = check.hidden_cases(SEEDS[0]), check.hidden_cases(SEEDS[0])  # the same seed: the same cases
    assert [_key(case) for case in first] == [_key(case) for case in second]


@pytest.mark.parametrize("assignment", ["a1_convolution", "a2_pooling", "a3_backprop"])
def test_the_instructors_solutions_pass_whatever_the_seed(assignment):
    namespace = solution_functions(assignment)
    for name, check in CHECKS.items():
        if check.assignment != assignment:
            continue
        for seed in SEEDS:
            cases = check.visible() + check.hidden_cases(seed)
            wrong = [judgment.message for pairs in judged(check, namespace[name], cases)
                     for _, judgment in pairs if not judgment.right]
            assert not wrong, f"{name}, seed {seed}:\n{wrong[0]}"


def test_twenty_honest_solutions_in_other_styles_pass_whatever_the_seed():
    notebook = json.loads((ROOT / "assignments" / "a1_convolution" / "a1_convolution.ipynb").read_text())
    templates = {cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"]) for cell in notebook["cells"]
                 if cell["metadata"].get("nbgrader", {}).get("solution")}
    for k, answers in enumerate(honest_solutions()):
        namespace = {"np": np}
        for name in FUNCTIONS:
            exec(cell_code(templates[name], answers[name]), namespace)
        for name in FUNCTIONS:
            check = CHECKS[name]
            for seed in SEEDS[:8]:
                wrong = [judgment.message for pairs in judged(check, namespace[name], check.hidden_cases(seed))
                         for _, judgment in pairs if not judgment.right]
                assert not wrong, f"honest solution {k}, {name}, seed {seed}:\n{wrong[0]}"


def _key(case) -> tuple:
    """The inputs of ``case`` as a table key: arrays by dtype, shape and bytes."""
    def part(value):
        if isinstance(value, np.ndarray):
            return value.dtype.str, value.shape, value.tobytes()
        return repr(value)
    return tuple(part(value) for value in case.args) + tuple(
        (key, part(value)) for key, value in sorted(case.kwargs.items()))


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_a_table_of_the_published_answers_earns_nothing(name):
    check = CHECKS[name]
    table = {}
    for case in check.visible() + check.hidden():  # what a student can compute offline
        answers = [spec.reference(*case.args, **case.kwargs) for spec in check.specs]
        table[_key(case)] = answers

    def looked_up(*args, **kwargs):
        from course_utils.grading.specs import Case

        answers = table.get(_key(Case("", args, kwargs)))
        if answers is None:  # not a published case: nothing computed
            shapes = [spec.reference(*args, **kwargs) for spec in check.specs]
            answers = [np.zeros_like(shape) if isinstance(shape, np.ndarray) else 0 for shape in shapes]
        return tuple(answers) if check.outputs else answers[0]

    published = score(check, judged(check, looked_up, check.visible() + check.hidden()))
    assert published.fraction == 1.0  # the table is complete: it passes what the kernel runs
    graded = score(check, judged(check, looked_up, check.visible() + check.hidden_cases(SEEDS[0])))
    if name == "output_size":  # sizes and strides: a few fixed cases are the same for every seed
        assert graded.fraction < 0.5, graded.summary()
    else:
        assert graded.fraction == 0.0, graded.summary()


def test_the_seed_is_the_same_for_the_same_code_and_changes_with_it():
    notebook = json.loads((ROOT / "solutions" / "a2_pooling" / "a2_pooling.ipynb").read_text())
    seed = submission_seed(notebook)
    assert submission_seed(json.loads(json.dumps(notebook))) == seed
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = "changed prose"
    assert submission_seed(notebook) == seed  # only code counts
    code = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    code["source"] = "".join(code["source"]) + "\n# one more line"
    assert submission_seed(notebook) != seed
