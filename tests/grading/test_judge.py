"""The out-of-process judge: pass or fail is decided where the student's code cannot patch it.

The cheat tests first show the cheat working against judging in the kernel's own process
(:func:`in_process_message`, the comparison called right here), then that the check -- whose
judge is a separate, clean Python process -- still fails the wrong answer, with the same message.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import numpy.testing
import pytest

from course_utils import grading, reference
from course_utils.grading import judge
from course_utils.grading.checks import call_guarded
from course_utils.grading.compare import judge_answer
from course_utils.grading.cases import a1_convolution, a2_pooling as pooling


def wrong_relu(x):
    return np.maximum(x, 0) + 0.5


def right_relu(x):
    return np.maximum(x, 0)


def patch_numpy_to_say_equal(monkeypatch):
    """What a cheating submission does before its function is checked."""
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    monkeypatch.setattr(np, "array_equal", lambda *args, **kwargs: True)
    monkeypatch.setattr(np, "isclose", lambda a, b, *args, **kwargs: np.ones(np.broadcast_shapes(
        np.shape(a), np.shape(b)), bool))
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *args, **kwargs: None)


def in_process_message(function, spec, cases):
    """The first failure message for ``function`` on ``cases``, judged in this very process (where
    a patched numpy reaches the comparison), or None."""
    for case in cases:
        got, (args, kwargs) = call_guarded(function, spec.name, case)
        message = judge_answer(spec, case, got, args, kwargs)
        if message:
            return message
    return None


def test_the_judge_gives_the_same_message_as_judging_in_process():
    cases = pooling._relu_visible()
    expected = in_process_message(wrong_relu, pooling.RELU, cases)
    assert expected.startswith("relu failed the check 'worked numbers [-2, -0.5, 0, 0.5, 2]': wrong values.")
    with pytest.raises(grading.CheckFailed) as failed:
        grading.check_relu(wrong_relu)
    first, summary = str(failed.value).split("\n0 of 4 groups")
    assert first == expected  # then which groups pass: none, the values are wrong everywhere
    assert summary.startswith(" of checks pass (failed: worked example, any shape, dtype, input")


def test_the_judge_still_diagnoses_the_likely_mistake():
    with pytest.raises(grading.CheckFailed, match="Probably: you took the absolute value"):
        grading.check_relu(np.abs)


def test_patched_numpy_comparisons_fool_in_process_judging_but_not_the_judge(monkeypatch):
    patch_numpy_to_say_equal(monkeypatch)
    assert in_process_message(wrong_relu, pooling.RELU, pooling._relu_hidden()) is None  # the cheat works here
    with pytest.raises(grading.CheckFailed, match="wrong values"):
        grading.check_relu(wrong_relu, hidden=True)
    grading.check_relu(right_relu, hidden=True)  # and a right answer still passes


def test_patching_subprocess_json_and_numpy_save_after_import_changes_nothing(monkeypatch):
    fake = subprocess.CompletedProcess([], 0, stdout='{"failure": null, "passed": []}', stderr="")
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: fake)
    monkeypatch.setattr(json, "loads", lambda *args, **kwargs: {"failure": None, "passed": []})
    monkeypatch.setattr(np.lib.format, "write_array", lambda *args, **kwargs: None)
    monkeypatch.setattr(np, "save", lambda *args, **kwargs: None)
    with pytest.raises(grading.CheckFailed, match="wrong values"):
        grading.check_relu(wrong_relu)


@pytest.mark.parametrize("answer, words", [
    (None, "expected a numpy array, got NoneType: None"),
    ([1.0, 2.0], "expected a numpy array, got list: [1.0, 2.0]"),
    (np.empty((5,), dtype=object), "wrong dtype"),
    (np.float32(1.5), "expected a numpy array, got float32: np.float32(1.5)"),
    ({"relu": 1}, "expected a numpy array, got dict: {'relu': 1}"),
])
def test_any_kind_of_answer_reaches_the_judge_and_gets_the_same_message(answer, words):
    cases = pooling._relu_visible()[:1]
    expected = in_process_message(lambda x: answer, pooling.RELU, cases)
    assert words in expected
    with pytest.raises(grading.CheckFailed) as failed:
        grading.check_relu(lambda x: answer)
    first, summary = str(failed.value).split("\n0 of 4 groups")
    assert first == expected


def test_an_object_the_judge_cannot_rebuild_is_judged_by_its_type_and_repr():
    class Sneaky:
        def __repr__(self):
            return "Sneaky()"

        def __eq__(self, other):  # would compare equal to anything in the kernel
            return True

    with pytest.raises(grading.CheckFailed, match="expected a numpy array, got Sneaky: Sneaky()"):
        grading.check_relu(lambda x: Sneaky())


def test_an_ndarray_subclass_is_judged_as_the_plain_array():
    class AlwaysEqual(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, bool)

    with pytest.raises(grading.CheckFailed, match="wrong values"):
        grading.check_relu(lambda x: wrong_relu(x).view(AlwaysEqual))


def test_a_wrong_case_before_an_exception_is_reported_first_and_an_exception_alone_propagates():
    calls = []

    def wrong_then_crash(x):
        calls.append(x.shape)
        if len(calls) > 1:
            raise IndexError("student bug")
        return x * 0  # wrong on the first case

    with pytest.raises(grading.CheckFailed, match="wrong values"):
        grading.check_relu(wrong_then_crash)

    def crash(x):
        raise IndexError("student bug")

    with pytest.raises(IndexError, match="student bug") as raised:
        grading.check_relu(crash)
    assert any("while checking relu" in note for note in raised.value.__notes__)


def test_the_judge_finds_each_spec_by_its_id_in_a_fresh_process():
    assert pooling.RELU.id == "a2_pooling/relu"
    for spec in (pooling.RELU, pooling.MAX_POOL2D, a1_convolution.CONV2D):
        assert judge.find_spec(spec.id) is spec
    cases = pooling._relu_visible()
    answers = [(case, reference.relu(case.args[0]), case.args, {}) for case in cases]
    judgments = judge.decide(pooling.RELU, answers)
    assert [j["case"] for j in judgments] == [case.name for case in cases]
    assert all(j["message"] is None and j["values_right"] and j["input_unchanged"] for j in judgments)


def test_the_judge_process_is_kept_between_checks_and_replaced_when_it_dies():
    grading.check_relu(right_relu)
    process = judge._JUDGE.process
    assert process is not None and process.poll() is None and process.pid != os.getpid()
    grading.check_relu(right_relu)
    assert judge._JUDGE.process is process  # one judge for many checks
    process.kill()  # e.g. a student's code kills it
    process.wait()
    with pytest.raises(grading.CheckFailed, match="wrong values"):
        grading.check_relu(wrong_relu)
    assert judge._JUDGE.process is not None and judge._JUDGE.process is not process
