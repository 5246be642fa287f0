"""Partial credit by named groups of checks: which groups a function passed, and its share of points.

A function's points are split evenly over its check's groups (:class:`~course_utils.grading.specs.Check`):

* a *case* group ("stride and padding", "non-square inputs and kernels", ...) passes when every
  case in it gave the right values;
* the *property* groups pass when every answer with the right values also had the right dtype
  (:data:`~course_utils.grading.specs.DTYPE`), and when no call changed its inputs
  (:data:`~course_utils.grading.specs.INPUT_UNCHANGED`) -- and only once at least one case group
  passed: an answer that is right only by accident (zeros, where a case's answer is zeros)
  earns nothing for its dtype or for leaving its inputs alone.

A function returning several arrays (``conv2d_backward``: dx, dw, db) is scored per output, and
its share is the mean of the outputs' shares: a wrong ``db`` costs a third of the points, not all.
One slip -- float64 out for float32 in, ``W_out`` computed with ``KH`` -- costs one group, not
the function.
"""

from __future__ import annotations

from dataclasses import dataclass

from course_utils.grading.compare import Judgment
from course_utils.grading.specs import DTYPE, INPUT_UNCHANGED, PROPERTY_GROUPS, Case, Check


@dataclass(frozen=True)
class GroupResult:
    """One group of one output: passed or not, how many checks counted, the first failure."""

    name: str
    passed: bool
    checks: int
    failure: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A function's result over all its cases: the groups per output and the share of points.

    ``outputs``: ``(output name, groups)`` pairs -- one pair named ``""`` for a function with one
    result. ``fraction``: the share of the function's points earned, in [0, 1]. ``first_failure``:
    the message of the first wrong answer in case order, or ``None``.
    """

    function: str
    outputs: tuple[tuple[str, tuple[GroupResult, ...]], ...]
    fraction: float
    first_failure: str | None

    @property
    def passed(self) -> bool:
        return self.fraction == 1.0

    def failed_groups(self) -> list[str]:
        """``"dtype"``, or ``"db: dtype"`` for an output of several, for every failed group."""
        return [f"{output}: {group.name}" if output else group.name
                for output, groups in self.outputs for group in groups if not group.passed]

    def summary(self) -> str:
        """``"5 of 6 groups of checks pass (failed: dtype)"``, over all outputs."""
        total = sum(len(groups) for _, groups in self.outputs)
        failed = self.failed_groups()
        text = f"{total - len(failed)} of {total} groups of checks pass"
        return text + (f" (failed: {', '.join(failed)})" if failed else "")


def score(check: Check, judged: list[list[tuple[Case, Judgment]]], not_reached: str | None = None) -> Verdict:
    """The verdict of ``check``'s function from its judged answers: ``judged[k]`` holds
    ``(case, judgment)`` for output ``k`` (one list for a function with one result). A group with
    no judged case fails, with ``not_reached`` (why the cases were not run) as its failure."""
    outputs = []
    first_failure = None
    for index, pairs in enumerate(judged):
        name = check.outputs[index] if check.outputs else ""
        kinds = [_group(check, group, pairs, not_reached) for group in check.groups if group not in PROPERTY_GROUPS]
        earned = any(group.passed for group in kinds)
        groups = {group.name: group for group in kinds}
        for group in check.groups:
            if group in PROPERTY_GROUPS:
                result = _group(check, group, pairs, not_reached)
                if not earned and result.passed:
                    result = GroupResult(group, False, result.checks,
                                         "counts only once a group of cases passes: no group's values were all right")
                groups[group] = result
        outputs.append((name, tuple(groups[group] for group in check.groups)))
        if first_failure is None:
            first_failure = next((j.message for _, j in pairs if j.message), None)
    shares = [sum(group.passed for group in groups) / len(groups) for _, groups in outputs if groups]
    fraction = sum(shares) / len(shares) if shares else 0.0
    return Verdict(check.function, tuple(outputs), fraction, first_failure)


def _group(check: Check, group: str, pairs: list[tuple[Case, Judgment]], not_reached: str | None) -> GroupResult:
    if group not in PROPERTY_GROUPS:
        mine = [j for case, j in pairs if check.group_of(case) == group]
        wrong = [j for j in mine if not j.values_right]
        if not mine:
            return GroupResult(group, False, 0, not_reached or "no case of this group was checked")
        return GroupResult(group, not wrong, len(mine), wrong[0].message if wrong else None)
    right = [j for _, j in pairs if j.values_right]
    if group == DTYPE:
        judged = [j for j in right if j.dtype_right is not None]
        wrong = [j for j in judged if not j.dtype_right]
        if not judged:
            return GroupResult(group, False, 0, "no answer had the right values, so its dtype could not count")
        return GroupResult(group, not wrong, len(judged), wrong[0].message if wrong else None)
    assert group == INPUT_UNCHANGED, group
    changed = [j for _, j in pairs if not j.input_unchanged]
    if not right:
        return GroupResult(group, False, 0, "no answer had the right values, so leaving the inputs alone could not count")
    return GroupResult(group, not changed, len(pairs), changed[0].message if changed else None)
