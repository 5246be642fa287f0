"""What the assignments' test cells call: ``grading.check_<name>(function, hidden=False)``.

Each check takes the student's function, runs its named cases (the visible ones, or with
``hidden=True`` the edge cases and random cases the grader adds; the case lists are in
:mod:`course_utils.grading.cases`) and stops at the first wrong answer with :class:`CheckFailed`,
whose message names the case and the call, what is wrong and, when the wrong answer is one a
typical mistake gives, what is probably wrong, then which named groups of checks pass. An
exception from the student's own code propagates unchanged (its traceback intact), with a note
naming the case. A function that delegates to a library fails with
:class:`~course_utils.grading.delegation.DelegationError`.

The student's function is only *called* here, in the kernel; its answers are judged by a
separate clean process (:mod:`course_utils.grading.judge`), so a notebook that patches
``numpy.allclose`` or a builtin cannot make a wrong answer pass when a student checks their
work. In an autograde whose trusted check decides the scores
(:mod:`course_utils.instructor.trusted`), this kernel's verdict is only compared with it.

Warnings raised by the student's code while it is checked are caught and shown on standard
output after the result: nbgrader scores a test cell 0 when anything is written to standard
error, and a warning alone must not cost a right answer its points.
"""

from __future__ import annotations

import signal
import threading
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from course_utils.grading import delegation, flags, judge
from course_utils.grading.cases import CHECKS
from course_utils.grading.compare import Judgment, wrap_lines
from course_utils.grading.scoring import score
from course_utils.grading.specs import Case, Check, check_label, describe


class CheckFailed(AssertionError):
    """A student's function gave a wrong answer; the message says where and probably why.

    Shown as its message alone (IPython's ``_render_traceback_``): no traceback through the
    grading code above it, so what is wrong and the hint are the first lines a student reads.
    """

    def _render_traceback_(self) -> list[str]:
        return render_failure(self)


class CheckTimeout(CheckFailed):
    """The student's function ran past the check's time budget and was stopped."""


def render_failure(error: BaseException) -> list[str]:
    """``["CheckFailed: <first line>", <the other lines>...]``: what a failed check shows (the
    name on a line of its own when the first line would then pass 80 characters, which
    nbgrader's validate would cut)."""
    name = type(error).__name__
    lines = str(error).split("\n")
    if len(name) + 2 + len(lines[0]) <= 80:
        return [f"\x1b[0;31m{name}\x1b[0m: {lines[0]}", *lines[1:]]
    return [f"\x1b[0;31m{name}\x1b[0m:", *lines]


@dataclass
class Report:
    """What a check ran: the function and the names of the cases it passed."""

    function: str
    passed: list[str]
    label: str = "checks"

    def __str__(self) -> str:
        named = [name for name in self.passed if not name.startswith("random case")]
        randoms = len(self.passed) - len(named)
        names = "; ".join(named + ([f"{randoms} random cases"] if randoms else []))
        return f"{self.function}: all {len(self.passed)} {self.label} passed ({names})"


def call_all(function, name: str, cases: Sequence[Case]):
    """Call ``function`` on every case until one raises, within
    :func:`~course_utils.grading.flags.kernel_check_seconds`.

    Returns ``(answers, exception or None, warnings)``; ``answers`` holds
    ``(case, result, args after, kwargs after)`` for the cases before any exception.
    """
    __tracebackhide__ = True
    answers, warned = [], []
    with TimeBudget(name, flags.kernel_check_seconds()) as budget:
        for case in cases:
            budget.case = case.name
            try:
                got, (args, kwargs) = call_guarded(function, name, case, warned)
            except CheckTimeout:
                raise
            except Exception as error:  # judge the cases before it first: they come first
                return answers, error, warned
            answers.append((case, got, args, kwargs))
    return answers, None, warned


def report_or_raise(name: str, judged: list[list[Judgment]], raised: Exception | None, warned,
                    label: str, summary: str = "") -> Report:
    """Print the passing line(s) and return the report, or raise: :class:`CheckFailed` with the
    first wrong answer's message (and ``summary``, the groups that pass), else the student's own
    exception."""
    __tracebackhide__ = True
    note = warnings_note(name, warned)
    first = next((j.message for judgments in judged for j in judgments if j.message), None)
    if first is not None:
        extra = "".join(f"\n{text}" for text in (summary, note) if text)
        raise CheckFailed(first + extra) from raised
    if raised is not None:
        if note:
            raised.add_note(f"[grading] {note}")
        raise raised
    reports = [Report(name, [j.case for j in judgments], label) for judgments in judged]
    for report in reports:
        print(f"\N{CHECK MARK} {report}")
    if note:
        print(note)
    return reports[0]


def warnings_note(function_name: str, warned: list[tuple[str, warnings.WarningMessage]], shown: int = 3) -> str:
    """What the student's code warned while it was checked, each distinct warning once with the
    first case that raised it; ``""`` if nothing warned."""
    first: dict[tuple[str, str], str] = {}
    for case_name, caught in warned:
        first.setdefault((caught.category.__name__, str(caught.message)), case_name)
    if not first:
        return ""
    lines = [f"Note: {function_name} raised {len(first)} warning{'s' if len(first) > 1 else ''} while it was "
             "checked (shown here, not on stderr: a warning alone costs no points, but read it):"]
    lines += [f"  {category}: {message} (first in case '{case_name}')"
              for (category, message), case_name in list(first.items())[:shown]]
    if len(first) > shown:
        lines.append(f"  ... and {len(first) - shown} more")
    return "\n".join(lines)


def call_guarded(function, name: str, case: Case, warned: list | None = None):
    """Call ``function`` on copies of the case's arguments, with delegation tripwires set.

    Returns ``(result, argument copies after the call)``. An exception from the student's code
    propagates unchanged, with a note naming the case and the call. Warnings the call raises
    are caught (never printed) and appended to ``warned`` as ``(case name, WarningMessage)``.
    """
    __tracebackhide__ = True
    args = tuple(_copy(value) for value in case.args)
    kwargs = {key: _copy(value) for key, value in case.kwargs.items()}
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # also a warning this kernel has shown before
            with delegation.tripwires(name):
                result = function(*args, **kwargs)
    except (delegation.DelegationError, CheckFailed):
        raise
    except Exception as error:
        error.add_note(f"[grading] while checking {name}, case '{case.name}':")
        error.add_note(f"[grading]   {case.call_text(name)}")
        hint = _hint_for_exception(error, name)
        if hint:
            error.add_note(f"[grading] {hint}")
        raise
    finally:
        if warned is not None:
            warned.extend((case.name, caught_warning) for caught_warning in caught)
    return result, (args, kwargs)


def _hint_for_exception(error: Exception, function_name: str) -> str | None:
    if isinstance(error, NotImplementedError):
        return f"{function_name} is not written yet: replace `raise NotImplementedError()` with your code."
    text = str(error)
    if isinstance(error, ValueError) and "broadcast" in text:
        return ("Two arrays of different shapes met: often a window one pixel too small or too "
                "large (check the slice bounds, e.g. start : start + size).")
    if isinstance(error, ValueError) and "zero-size array" in text:
        return ("A window came out empty: the output has more positions than windows that fit "
                "(check H_out = (H + 2p - size) // stride + 1 and where each window starts).")
    if isinstance(error, TypeError) and "NoneType" in text:
        return ("None reached an arithmetic operation: an optional argument such as stride=None "
                "needs its default filled in first (stride = size when it is None).")
    return None


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


# --- the checks the test cells call ---------------------------------------------------------

def run_named_check(function, name: str, hidden: bool) -> None:
    """Run the check of the graded function ``name`` (see :data:`~course_utils.grading.cases.CHECKS`)
    on ``function``: its visible cases, or its hidden ones, every one judged; a failure says
    which groups of checks pass (:mod:`course_utils.grading.scoring`)."""
    __tracebackhide__ = True
    check = CHECKS[name]
    if hidden and flags.trusted_grading_decides():
        # nbgrader's autograde with the course's trusted check: it runs every case, visible and
        # hidden, in a process of its own and decides the score; running them here too would
        # only take time.
        print(f"{name}: the hidden checks are run by the grader's trusted check")
        return
    cases = check.hidden() if hidden else check.visible()
    if not callable(function):
        raise CheckFailed(f"{name}: expected your function, got {describe(function)}")
    delegation.check_source(function, name)
    answers, raised, warned = call_all(function, name, cases)
    judged = []
    for index, spec in enumerate(check.specs):
        outputs = [(_named(case, check, index), _output(got, check, index, case), args, kwargs)
                   for case, got, args, kwargs in answers]
        judged.append([Judgment(**entry) for entry in judge.decide(spec, outputs)])
    not_reached = f"not checked: {name} raised {type(raised).__name__} on an earlier case" if raised else None
    verdict = score(check, [list(zip([case for case, *_ in answers], judgments)) for judgments in judged],
                    not_reached)
    summary = wrap_lines([f"{verdict.summary()}."]) if not verdict.passed else ""
    report_or_raise(name, judged, raised, warned, check_label(hidden), summary)


def _named(case: Case, check: Check, index: int) -> Case:
    """The case as one output's check names it: ``stride 2 [dw]``."""
    return Case(f"{case.name} [{check.outputs[index]}]", case.args, case.kwargs, case.group) if check.outputs else case


def _output(answer, check: Check, index: int, case: Case):
    """The ``index``-th result of a function returning several (the whole answer otherwise)."""
    if not check.outputs:
        return answer
    count = len(check.outputs)
    if not (isinstance(answer, (tuple, list)) and len(answer) == count):
        number = {2: "two", 3: "three"}.get(count, str(count))
        raise CheckFailed(wrap_lines([
            f"{check.function} must return the {number} {check.outputs_are} as a tuple "
            f"(return {', '.join(check.outputs)}); in the check '{case.name}' it returned {_what(answer)}."
        ]))
    return answer[index]


class TimeBudget:
    """``with TimeBudget(name, seconds):`` stops the block with :class:`CheckTimeout` after
    ``seconds`` (SIGALRM; only in the main thread, where a kernel runs cells). ``.case``: the
    case running, named in the message."""

    def __init__(self, name: str, seconds: float):
        self.name, self.seconds, self.case = name, seconds, "?"
        self.armed = False

    def _stop(self, signum, frame):
        raise CheckTimeout(wrap_lines([
            f"{self.name}: stopped after {self.seconds:g} s in the check '{self.case}'. A right "
            "answer takes well under a second: look for a loop that never ends (a while loop "
            "whose condition never changes, an index that is never increased)."
        ]))

    def __enter__(self):
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            self.previous = signal.signal(signal.SIGALRM, self._stop)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed = True
        return self

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def _what(answer) -> str:
    if isinstance(answer, np.ndarray):
        return f"one array of shape {answer.shape}"
    if isinstance(answer, (tuple, list)):
        return f"a {type(answer).__name__} of {len(answer)} values"
    return f"{type(answer).__name__} {answer!r}"[:100]


def check_output_size(output_size, hidden: bool = False) -> None:
    """Check ``output_size(n, f, p=0, s=1) -> int`` against ``reference.output_size``."""
    __tracebackhide__ = True
    run_named_check(output_size, "output_size", hidden)


def check_zero_pad(zero_pad, hidden: bool = False) -> None:
    """Check ``zero_pad(x, pad)`` ((N, C, H, W) -> (N, C, H + 2 pad, W + 2 pad))."""
    __tracebackhide__ = True
    run_named_check(zero_pad, "zero_pad", hidden)


def check_conv_single_step(conv_single_step, hidden: bool = False) -> None:
    """Check ``conv_single_step(window, kernel, bias=0.0) -> float`` (one output value)."""
    __tracebackhide__ = True
    run_named_check(conv_single_step, "conv_single_step", hidden)


def check_conv2d(conv2d, hidden: bool = False) -> None:
    """Check ``conv2d(x, w, b, stride=1, padding=0)``: (N, C, H, W) * (F, C, KH, KW) -> (N, F, H_out, W_out)."""
    __tracebackhide__ = True
    run_named_check(conv2d, "conv2d", hidden)


def check_relu(relu, hidden: bool = False) -> None:
    """Check ``relu(x)``: ``max(0, x)`` elementwise, any shape, dtype kept, ``x`` unchanged."""
    __tracebackhide__ = True
    run_named_check(relu, "relu", hidden)


def check_max_pool2d(max_pool2d, hidden: bool = False) -> None:
    """Check ``max_pool2d(x, size, stride=None)`` on (N, C, H, W); stride defaults to size."""
    __tracebackhide__ = True
    run_named_check(max_pool2d, "max_pool2d", hidden)


def check_avg_pool2d(avg_pool2d, hidden: bool = False) -> None:
    """Check ``avg_pool2d(x, size, stride=None)`` on (N, C, H, W); stride defaults to size."""
    __tracebackhide__ = True
    run_named_check(avg_pool2d, "avg_pool2d", hidden)


def check_relu_backward(relu_backward, hidden: bool = False) -> None:
    """Check ``relu_backward(dout, x)``: dout where x > 0, else 0; any shape, dtype kept."""
    __tracebackhide__ = True
    run_named_check(relu_backward, "relu_backward", hidden)


def check_max_pool2d_backward(max_pool2d_backward, hidden: bool = False) -> None:
    """Check ``max_pool2d_backward(dout, x, size, stride=None)``: x (N, C, H, W), dout the
    shape of ``max_pool2d(x, size, stride)``; returns the shape of x; ties to the first maximum."""
    __tracebackhide__ = True
    run_named_check(max_pool2d_backward, "max_pool2d_backward", hidden)


def check_conv2d_backward(conv2d_backward, hidden: bool = False) -> None:
    """Check ``conv2d_backward(dout, x, w, b, stride=1, padding=0) -> (dx, dw, db)``.

    x (N, C, H, W), w (F, C, KH, KW), b (F,), dout (N, F, H_out, W_out); dx, dw, db have the
    shapes of x, w, b. All cases for dx first, then dw, then db.
    """
    __tracebackhide__ = True
    run_named_check(conv2d_backward, "conv2d_backward", hidden)
