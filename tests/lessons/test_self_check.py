"""Self-check exercises: the right answer passes, known mistakes get their explanation,
anything else gets a hint, and an unanswered cell (``...``) never raises."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import images
from course_utils.self_check import EXERCISES, check, evaluate


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_the_expected_answer_is_accepted(exercise_id):
    assert evaluate(exercise_id, EXERCISES[exercise_id].expected) == (True, "Correct!")


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_each_known_mistake_gets_its_own_explanation(exercise_id):
    exercise = EXERCISES[exercise_id]
    for wrong, reason in exercise.mistakes:
        assert evaluate(exercise_id, wrong) == (False, f"Not quite. {reason}")


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_an_unanswered_exercise_says_so(exercise_id):
    correct, message = evaluate(exercise_id, ...)
    assert not correct and message.startswith("Not answered yet")


def test_the_answers_are_the_lessons_worked_numbers():
    assert EXERCISES["01.window_value"].expected == images.WORKED_EXAMPLE_OUTPUT[2, 0] == 2
    assert EXERCISES["01.edge_value"].expected == 30
    assert EXERCISES["02.output_size"].expected == 4
    assert EXERCISES["02.non_whole_division"].expected == 2
    assert EXERCISES["02.dense_weights"].expected == 14_450_688
    assert EXERCISES["02.conv_parameters"].expected == 456
    np.testing.assert_array_equal(EXERCISES["04.max_pool"].expected, [[8, 2], [2, 7]])
    np.testing.assert_array_equal(EXERCISES["04.avg_pool"].expected, [[4, 1], [1, 3.75]])


def test_a_wrong_array_names_the_first_wrong_value():
    correct, message = evaluate("04.max_pool", [[8, 2], [3, 7]])
    assert not correct
    assert message.startswith("1 of 4 values are wrong; the first is at index (1, 0): you have 3.")


def test_a_wrong_shape_is_reported_before_values():
    correct, message = evaluate("04.max_pool", [8, 2, 2, 7])
    assert not correct and message.startswith("Expected shape (2, 2), your answer has shape (4,)")


def test_a_wrong_number_gets_the_hint_without_the_answer():
    correct, message = evaluate("01.window_value", 7)
    assert not correct and "Hint:" in message and "2" not in message.split("Hint:")[0]


def test_text_instead_of_a_number_is_explained():
    correct, message = evaluate("02.same_padding", "two")
    assert not correct and "is not a number" in message


def test_tolerance_accepts_a_rounded_softmax():
    assert evaluate("03.softmax_top", 0.66)[0]
    assert not evaluate("03.softmax_top", 0.6)[0]


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(ValueError, match="no exercise called '09.nope'; known: 01.window_value"):
        evaluate("09.nope", 1)


def test_check_prints_the_verdict(capsys):
    check("04.pool_parameters", 0)
    check("04.pool_parameters", 4)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "\u2713 Correct!"
    assert lines[1].startswith("\u2717 Not quite")
