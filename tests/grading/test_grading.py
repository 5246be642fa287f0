"""course_utils.grading: the checks the assignments' test cells call.

The instructor's solutions (run from ``solutions/``) pass every visible and hidden check, each
test cell in well under the 5 s budget; every typical bug fails with the message that names it;
failures show where and by how much; the student's own exceptions keep their traceback; a
function that delegates to a library fails, however it reaches the library.
"""

from __future__ import annotations

import time
import traceback
import warnings

import re

import numpy as np
import pytest

from course_utils import grading, reference
from course_utils.grading import CheckFailed, DelegationError, rel_error

from solution_checks import assert_bug_is_named, failure_message, solution_functions  # tests/solution_checks.py


CHECKS = {
    "output_size": grading.check_output_size,
    "zero_pad": grading.check_zero_pad,
    "conv_single_step": grading.check_conv_single_step,
    "conv2d": grading.check_conv2d,
    "relu": grading.check_relu,
    "max_pool2d": grading.check_max_pool2d,
    "avg_pool2d": grading.check_avg_pool2d,
}


SOLUTIONS = {**solution_functions("a1_convolution"), **solution_functions("a2_pooling")}


# --- the instructor's solutions ------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CHECKS))
def test_the_naive_loop_solution_passes_visible_and_hidden_checks_within_the_time_budget(name, capsys):
    for hidden in (False, True):
        start = time.perf_counter()
        CHECKS[name](SOLUTIONS[name], hidden=hidden)
        seconds = time.perf_counter() - start
        assert seconds < 5, f"{name} (hidden={hidden}) took {seconds:.1f} s; the budget per test cell is 5 s"
    printed = capsys.readouterr().out
    assert printed.count("\N{CHECK MARK}") == 2 and "hidden checks passed" in printed


@pytest.mark.parametrize("name", list(CHECKS))
def test_a_check_returns_nothing_so_nbgrader_never_reads_it_as_partial_credit(name):
    assert CHECKS[name](SOLUTIONS[name]) is None


def test_the_hidden_checks_cover_the_edge_cases_the_course_promises():
    from course_utils.grading.cases import a1_convolution as convolution
    from course_utils.grading.cases import a2_pooling as pooling

    conv_cases = convolution._conv2d_hidden()
    x_shapes = [case.args[0].shape for case in conv_cases]
    w_shapes = [case.args[1].shape for case in conv_cases]
    strides = [case.kwargs.get("stride", 1) for case in conv_cases]
    assert any(w[2:] == (1, 1) for w in w_shapes)                                   # 1x1 kernels
    assert any(x[2:] == w[2:] for x, w in zip(x_shapes, w_shapes))                  # kernel = input
    assert any(s > w[2] for s, w in zip(strides, w_shapes))                         # stride > kernel
    assert any(x[2] != x[3] for x in x_shapes) and any(w[2] != w[3] for w in w_shapes)  # non-square
    assert {case.args[0].dtype for case in conv_cases} == {np.dtype(np.float32), np.dtype(np.float64)}
    assert len({case.kwargs.get("padding", 0) for case in conv_cases}) >= 3
    pool_cases = pooling._pool_hidden(seed=10)
    assert any(len(case.args) == 2 and "stride" not in case.kwargs for case in pool_cases)  # default
    assert {case.args[0].dtype for case in pool_cases} == {np.dtype(np.float32), np.dtype(np.float64)}


# --- typical bugs, written the way students write them --------------------------------------------

def conv2d_student(*, stride_in_size=True, stride_in_position=True, fixed_padding=None, flip=False,
                   one_short=False, dtype_of_x=True, bias=True, first_filter_only=False, in_place=False):
    """A plain-loop conv2d with one switchable mistake."""
    def conv2d(x, w, b, stride=1, padding=0):
        if in_place:
            x -= x.mean()
        pad = padding if fixed_padding is None else fixed_padding
        n_images, _, height, width = x.shape
        n_filters, _, kh, kw = w.shape
        step = stride if stride_in_size else 1
        h_out = (height + 2 * pad - kh) // step + 1 - one_short
        w_out = (width + 2 * pad - kw) // step + 1 - one_short
        x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        out = np.zeros((n_images, n_filters, h_out, w_out), dtype=x.dtype if dtype_of_x else np.float64)
        move = stride if stride_in_position else 1
        for n in range(n_images):
            for f in range(n_filters):
                kernel = w[0 if first_filter_only else f]
                kernel = kernel[:, ::-1, ::-1] if flip else kernel
                for y in range(h_out):
                    for x_ in range(w_out):
                        window = x_pad[n, :, y * move:y * move + kh, x_ * move:x_ * move + kw]
                        out[n, f, y, x_] = np.sum(window * kernel) + (b[f] if bias else 0)
        return out
    return conv2d


def pool_student(reduce=np.max, *, default_stride=True, stride_in_size=True, stride_in_position=True,
                 dtype_of_x=True, over_channels=False):
    """A plain-loop pooling function with one switchable mistake."""
    def pool(x, size, stride=None):
        if default_stride and stride is None:
            stride = size
        n_images, channels, height, width = x.shape
        step = stride if stride_in_size else 1
        h_out, w_out = (height - size) // step + 1, (width - size) // step + 1
        out = np.zeros((n_images, channels, h_out, w_out), dtype=x.dtype if dtype_of_x else np.float64)
        move = stride if stride_in_position else 1
        for y in range(h_out):
            for x_ in range(w_out):
                window = x[:, :, y * move:y * move + size, x_ * move:x_ * move + size]
                axes = (1, 2, 3) if over_channels else (2, 3)
                out[:, :, y, x_] = reduce(window, axis=axes, keepdims=over_channels).reshape(n_images, -1)
        return out
    return pool


def relu_in_place(x):
    x[x < 0] = 0
    return x


def zero_pad_with_float64(x, pad):
    out = np.zeros(x.shape[:2] + (x.shape[2] + 2 * pad, x.shape[3] + 2 * pad))
    out[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]] = x
    return out


def conv_single_step_matmul(window, kernel, bias=0.0):
    return window @ kernel + bias


# (check, buggy function, hidden, words the message must contain)
TYPICAL_BUGS = {
    "output_size forgets the stride": (
        "output_size", lambda n, f, p=0, s=1: n + 2 * p - f + 1, False,
        ["expected 4, got 7", "Probably: you forgot the stride"]),
    "output_size uses / (a float)": (
        "output_size", lambda n, f, p=0, s=1: (n + 2 * p - f) / s + 1, False,
        ["wrong type", "expected an int, got 3.0", "integer division //"]),
    "output_size forgets the + 1": (
        "output_size", lambda n, f, p=0, s=1: (n + 2 * p - f) // s, False,
        ["expected 3, got 2", "Probably: you forgot the + 1"]),
    "output_size pads one side": (
        "output_size", lambda n, f, p=0, s=1: (n + p - f) // s + 1, False,
        ["Probably one of these:", "- you forgot the padding", "- you added the padding once"]),
    "output_size rounds up": (
        "output_size", lambda n, f, p=0, s=1: -(-(n + 2 * p - f) // s) + 1, False,
        ["Probably: you rounded up"]),
    "zero_pad pads every axis": (
        "zero_pad", lambda x, pad: np.pad(x, pad), False,
        ["wrong shape", "expected shape (1, 1, 4, 4), got (3, 3, 4, 4)", "Probably: you padded every axis"]),
    "zero_pad uses a channels-last layout": (
        "zero_pad", lambda x, pad: np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))), False,
        ["Probably: you padded axes 1 and 2 (a channels-last layout)"]),
    "zero_pad hard-codes the padding": (
        "zero_pad", lambda x, pad: np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), False,
        ["expected shape (2, 3, 8, 9), got (2, 3, 6, 7)", "Probably: the padding looks hard-coded to 1"]),
    "zero_pad pads one side": (
        "zero_pad", lambda x, pad: np.pad(x, ((0, 0), (0, 0), (0, pad), (0, pad))), False,
        ["Probably: you padded one side only"]),
    "zero_pad returns float64 for float32": (
        "zero_pad", zero_pad_with_float64, True,
        ["wrong dtype", "expected float32 (the dtype of the input), got float64", "dtype=x.dtype"]),
    "conv_single_step forgets the bias": (
        "conv_single_step", lambda window, kernel, bias=0.0: float(np.sum(window * kernel)), False,
        ["wrong values", "relative error", "Probably: you forgot to add the bias"]),
    "conv_single_step flips the kernel": (
        "conv_single_step", lambda window, kernel, bias=0.0: float(np.sum(window * kernel[..., ::-1, ::-1]) + bias),
        True, ["asymmetric kernel", "Probably: you flipped the kernel"]),
    "conv_single_step takes the mean": (
        "conv_single_step", lambda window, kernel, bias=0.0: float(np.mean(window * kernel) + bias), False,
        ["Probably: you took the mean"]),
    "conv_single_step returns an array": (
        "conv_single_step", conv_single_step_matmul, False,
        ["wrong type", "expected one number, got ndarray of shape (3, 3)", "float(np.sum(...))"]),
    "conv2d forgets the stride": (
        "conv2d", conv2d_student(stride_in_size=False, stride_in_position=False), False,
        ["check 'stride 2'", "expected shape (1, 3, 3, 3), got (1, 3, 5, 5)", "Probably: you forgot the stride"]),
    "conv2d forgets the stride when placing windows": (
        "conv2d", conv2d_student(stride_in_position=False), False,
        ["check 'stride 2'", "first difference at index (0, 0, 0, 1)",
         "Probably: you forgot the stride when placing the window"]),
    "conv2d does not pad the input": (
        "conv2d", conv2d_student(fixed_padding=0), False,
        ["check 'padding 1'", "expected shape (2, 2, 4, 4), got (2, 2, 2, 2)",
         "Probably: the input was not padded"]),
    "conv2d hard-codes the padding": (
        "conv2d", conv2d_student(fixed_padding=1), False,
        ["check 'worked example of lesson 01 (5x5 image, X kernel)'", "Probably: the padding looks hard-coded to 1"]),
    "conv2d flips the kernel": (
        "conv2d", conv2d_student(flip=True), False,
        ["first difference at index (0, 0, 0, 0)", "relative error", "Probably: you flipped the kernel"]),
    "conv2d output one short (off-by-one)": (
        "conv2d", conv2d_student(one_short=True), False,
        ["expected shape (1, 1, 3, 3), got (1, 1, 2, 2)", "off by one"]),
    "conv2d forgets the bias": (
        "conv2d", conv2d_student(bias=False), False, ["Probably: you forgot the bias"]),
    "conv2d uses the first filter for every channel": (
        "conv2d", conv2d_student(first_filter_only=True), False, ["Probably: every output channel used the first filter"]),
    "conv2d returns float64 for float32": (
        "conv2d", conv2d_student(dtype_of_x=False), True,
        ["check 'float32 stays float32'", "expected float32 (the dtype of the input), got float64"]),
    "conv2d modifies x in place": (
        "conv2d", conv2d_student(in_place=True), False,
        ["modified its input in place", "argument 1 (float64 array (1, 1, 5, 5)) was changed by the call"]),
    "relu modifies x in place": (
        "relu", relu_in_place, False,
        ["modified its input in place", "at index (0,) it was -2, now 0", "never write into an input array"]),
    "relu returns the mask": (
        "relu", lambda x: x > 0, False, ["Probably: you returned the mask x > 0"]),
    "relu zeroes the positives": (
        "relu", lambda x: np.minimum(x, 0), False, ["Probably: you zeroed the positive values"]),
    "relu takes the absolute value": (
        "relu", np.abs, False, ["Probably: you took the absolute value"]),
    "relu returns float64 for float32": (
        "relu", lambda x: np.maximum(x, 0).astype(np.float64), True,
        ["wrong dtype", "expected float32 (the dtype of the input), got float64"]),
    "max_pool2d forgets the stride when placing windows": (
        "max_pool2d", pool_student(stride_in_position=False), False,
        ["first difference at index (0, 0, 0, 1): expected 2, got 9",
         "Probably: you forgot the stride when placing the window"]),
    "max_pool2d uses stride 1 everywhere": (
        "max_pool2d", pool_student(stride_in_size=False, stride_in_position=False), False,
        ["expected shape (1, 1, 2, 2), got (1, 1, 3, 3)", "Probably: you forgot the stride (or stride=None became 1)"]),
    "max_pool2d takes the average": (
        "max_pool2d", pool_student(np.mean), False, ["Probably: you took the average"]),
    "max_pool2d takes the minimum": (
        "max_pool2d", pool_student(np.min), False, ["Probably: you took the minimum"]),
    "max_pool2d pools over the channels too": (
        "max_pool2d", pool_student(over_channels=True), False, ["Probably: you took the max over the channels too"]),
    "max_pool2d returns float64 for float32": (
        "max_pool2d", pool_student(dtype_of_x=False), True, ["wrong dtype"]),
    "avg_pool2d takes the max": (
        "avg_pool2d", pool_student(np.max), False, ["Probably: you took the max"]),
    "avg_pool2d sums without dividing": (
        "avg_pool2d", pool_student(np.sum), False, ["Probably: you summed without dividing"]),
    "avg_pool2d divides by size only": (
        "avg_pool2d", pool_student(lambda a, axis, keepdims=False: np.sum(a, axis=axis) / a.shape[-1]), False,
        ["Probably: you divided by size, not by the number of values"]),
    "avg_pool2d forgets the stride": (
        "avg_pool2d", pool_student(np.mean, stride_in_size=False, stride_in_position=False), False,
        ["Probably: you forgot the stride"]),
}


@pytest.mark.parametrize("bug", list(TYPICAL_BUGS))
def test_each_typical_bug_fails_with_the_message_that_names_it(bug):
    name, function, hidden, words = TYPICAL_BUGS[bug]
    assert_bug_is_named(CHECKS[name], name, function, hidden, words, bug)


def test_a_wrong_value_shows_the_first_differing_index_expected_got_and_the_relative_error():
    message = failure_message(grading.check_conv2d, conv2d_student(flip=True))
    assert "first difference at index (0, 0, 0, 0): expected 0.5" in message
    assert "relative error" in message and "a right answer is below 1e-07" in message


def test_rel_error_is_scale_free_and_zero_for_equal_arrays():
    a = np.array([1.0, -2.0, 3.0])
    assert rel_error(a, a) == 0
    assert rel_error(a, a * (1 + 1e-9)) == pytest.approx(5e-10, rel=1e-3)
    assert rel_error(1e6 * a, 1e6 * a * (1 + 1e-9)) == pytest.approx(rel_error(a, a * (1 + 1e-9)), rel=1e-6)
    assert rel_error([1.0], [-1.0]) == 1.0


def test_float32_round_off_passes_but_a_real_error_does_not():
    def conv2d_in_float32(x, w, b, stride=1, padding=0):
        out = reference.conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), stride, padding)
        return out.astype(x.dtype)

    # (the delegation guard would reject this function; the comparison itself is what is tested)
    from course_utils.grading import compare as core
    from course_utils.grading.cases import a1_convolution as convolution

    case = convolution._conv2d_hidden()[5]
    assert case.name == "float32 stays float32"
    got = conv2d_in_float32(*case.args, **case.kwargs)
    expected = reference.conv2d(*case.args, **case.kwargs)
    assert core.values_match(expected, got)
    assert not core.values_match(expected, got + 1e-2)


# --- warnings from the student's code ----------------------------------------------------------------
# nbgrader scores a test cell 0 when anything reaches stderr, where Python prints warnings.

def relu_that_warns(extra: int = 0):
    def relu(x):
        np.sqrt(x)  # negative entries: RuntimeWarning, a right answer all the same
        warnings.warn("this relu is slow", DeprecationWarning)
        for index in range(extra):
            warnings.warn(f"extra warning {index}", UserWarning)
        return np.maximum(x, 0)

    return relu


def test_a_right_answer_that_warns_passes_with_the_warnings_on_stdout_not_stderr(capsys):
    grading.check_relu(relu_that_warns(), hidden=True)
    printed = capsys.readouterr()
    assert printed.err == ""
    assert "relu: all" in printed.out and "Note: relu raised 2 warnings while it was checked" in printed.out
    assert "RuntimeWarning: invalid value encountered in sqrt (first in case" in printed.out
    assert "DeprecationWarning: this relu is slow" in printed.out
    assert printed.out.count("this relu is slow") == 1  # each distinct warning once


def test_many_distinct_warnings_are_summarised():
    note = grading.checks.warnings_note("relu", [])
    assert note == ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        relu_that_warns(extra=4)(np.array([-1.0]))
    note = grading.checks.warnings_note("relu", [("a case", warning) for warning in caught])
    assert "raised 6 warnings" in note and "... and 3 more" in note and note.count("\n  ") == 4


def test_a_wrong_answer_that_warns_fails_with_the_warnings_in_the_message(capsys):
    def relu(x):
        np.sqrt(x)
        return np.abs(x)

    with pytest.raises(grading.CheckFailed) as caught:
        grading.check_relu(relu)
    assert "relu failed the check" in str(caught.value)
    assert "RuntimeWarning: invalid value encountered in sqrt" in str(caught.value)
    assert capsys.readouterr().err == ""


def test_an_exception_after_a_warning_keeps_its_traceback_and_notes_the_warning():
    def relu(x):
        np.sqrt(x)
        raise NotImplementedError()

    with pytest.raises(NotImplementedError) as caught:
        grading.check_relu(relu)
    assert any("RuntimeWarning: invalid value encountered in sqrt" in note for note in caught.value.__notes__)


# --- exceptions from the student's code --------------------------------------------------------------

def test_a_blank_function_raises_its_own_not_implemented_error_with_a_note():
    def conv2d(x, w, b, stride=1, padding=0):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError) as caught:
        grading.check_conv2d(conv2d)
    notes = "\n".join(caught.value.__notes__)
    assert "while checking conv2d, case 'worked example of lesson 01" in notes
    assert "replace `raise NotImplementedError()` with your code" in notes


def test_the_students_traceback_is_kept_intact():
    def zero_pad(x, pad):
        rows = x.shape[2] + 2 * pad
        return x[:, :, rows]  # IndexError, inside the student's code

    with pytest.raises(IndexError) as caught:
        grading.check_zero_pad(zero_pad)
    frames = [entry.name for entry in caught.traceback]
    assert frames[-1] == "zero_pad"  # the error points at the student's line
    assert "return x[:, :, rows]" in "".join(traceback.format_exception(caught.value))
    assert any("zero_pad(float64 array (1, 1, 2, 2), 1)" in note for note in caught.value.__notes__)


def test_an_off_by_one_window_raises_the_broadcast_error_with_a_hint():
    def conv2d(x, w, b, stride=1, padding=0):
        h_out = (x.shape[2] - w.shape[2]) // stride + 1
        out = np.zeros((x.shape[0], w.shape[0], h_out, h_out))
        for y in range(h_out):
            for x_ in range(h_out):
                out[0, 0, y, x_] = np.sum(x[0, :, y:y + w.shape[2] - 1, x_:x_ + w.shape[3]] * w[0])
        return out

    with pytest.raises(ValueError, match="broadcast") as caught:
        grading.check_conv2d(conv2d)
    assert any("window one pixel too small or too large" in note for note in caught.value.__notes__)


def test_a_missing_default_stride_raises_the_type_error_with_a_hint():
    with pytest.raises(TypeError) as caught:
        grading.check_max_pool2d(pool_student(default_stride=False))
    assert any("stride = size when it is None" in note for note in caught.value.__notes__)


# --- the delegation guard ------------------------------------------------------------------------------

fast = reference.conv2d  # a student who imported the answer key under another name


def delegates_through_a_global_alias(x, w, b, stride=1, padding=0):
    return fast(x, w, b, stride=stride, padding=padding)


def delegates_through_the_module(x, w, b, stride=1, padding=0):
    return reference.conv2d(x, w, b, stride=stride, padding=padding)


def delegates_through_an_import_inside(x, w, b, stride=1, padding=0):
    from course_utils.reference import conv2d
    return conv2d(x, w, b, stride=stride, padding=padding)


def delegates_dynamically(x, w, b, stride=1, padding=0):
    import importlib
    module = importlib.import_module("course_utils." + "reference")
    return getattr(module, "conv" + "2d")(x, w, b, stride, padding)


def delegates_and_hides_the_error(x, w, b, stride=1, padding=0):
    import importlib
    try:
        return getattr(importlib.import_module("course_utils." + "reference"), "conv2d")(x, w, b, stride, padding)
    except Exception:
        return conv2d_student()(x, w, b, stride, padding)


def _helper_that_uses_torch(x, w, b, stride, padding):
    import torch
    out = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=stride,
                                     padding=padding)
    return out.numpy()


def delegates_to_torch_through_a_helper(x, w, b, stride=1, padding=0):
    return _helper_that_uses_torch(x, w, b, stride, padding)


def delegates_to_torch_dynamically(x, w, b, stride=1, padding=0):
    library = __import__("to" + "rch")
    convolution = getattr(library.nn.functional, "conv2d")
    tensors = [library.from_numpy(a) for a in (x, w, b)]
    return convolution(*tensors, stride=stride, padding=padding).numpy()


def delegates_to_numpy_convolve(x, size, stride=None):
    stride = size if stride is None else stride
    module = __import__("num" + "py")
    getattr(module, "convolve")(x.ravel(), np.ones(size))
    return pool_student()(x, size, stride)


DELEGATIONS = {
    "a global alias of course_utils.reference.conv2d": (
        "conv2d", delegates_through_a_global_alias, "course_utils.reference.convolution.conv2d (the name `fast`)"),
    "the course_utils.reference module": (
        "conv2d", delegates_through_the_module, "the module course_utils.reference (the name `reference`)"),
    "an import inside the function": (
        "conv2d", delegates_through_an_import_inside, "`import course_utils.reference`"),
    "importlib and getattr": ("conv2d", delegates_dynamically, "course_utils.reference.conv2d"),
    "importlib, with the error caught": ("conv2d", delegates_and_hides_the_error, "course_utils.reference.conv2d"),
    "torch inside a helper of the student's": ("conv2d", delegates_to_torch_through_a_helper, "`import torch`"),
    "torch reached through __import__": ("conv2d", delegates_to_torch_dynamically, "torch"),
    "a pooling function using numpy.convolve": ("max_pool2d", delegates_to_numpy_convolve, "numpy.convolve"),
    "a pooling function using torch's max_pool2d": (
        "max_pool2d", lambda x, size, stride=None: __import__("torch").nn.functional.max_pool2d(
            __import__("torch").from_numpy(x), size, stride).numpy(), "torch"),
}


@pytest.mark.parametrize("way", list(DELEGATIONS))
def test_a_function_that_delegates_fails_with_a_message_saying_so(way):
    name, function, words = DELEGATIONS[way]
    with pytest.raises(DelegationError) as caught:
        CHECKS[name](function)
    message = " ".join(str(caught.value).split())  # the words, whatever the line breaks
    assert message.startswith(f"{name} delegates instead of computing")
    assert words in message, message
    assert "write the computation yourself with numpy" in message


def test_the_guard_puts_every_library_function_back_after_a_failed_check():
    import torch

    original_conv2d, original_torch_conv2d, original_convolve = reference.conv2d, torch.nn.functional.conv2d, np.convolve
    with pytest.raises(DelegationError):
        grading.check_conv2d(delegates_dynamically)
    assert reference.conv2d is original_conv2d
    assert torch.nn.functional.conv2d is original_torch_conv2d
    assert np.convolve is original_convolve
    import sys
    assert not any(type(finder).__name__ == "_ImportBlocker" for finder in sys.meta_path)


def test_the_students_own_helpers_and_plain_numpy_are_allowed():
    def zero_pad(x, pad):
        return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))

    def conv2d(x, w, b, stride=1, padding=0):
        windows = np.lib.stride_tricks.sliding_window_view(zero_pad(x, padding), w.shape[2:], axis=(2, 3))
        windows = windows[:, :, ::stride, ::stride]
        return (np.einsum("nchwij,fcij->nfhw", windows, w) + b[None, :, None, None]).astype(x.dtype)

    grading.check_conv2d(conv2d)
    grading.check_conv2d(conv2d, hidden=True)


def test_a_function_that_never_returns_is_stopped_with_one_plain_line(monkeypatch):
    from course_utils.grading import checks

    monkeypatch.setenv("COURSE_CHECK_SECONDS", "1")

    def relu(x):
        while True:
            pass

    with pytest.raises(checks.CheckTimeout) as stopped:
        grading.check_relu(relu)
    shown = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in stopped.value._render_traceback_()]
    text = " ".join(" ".join(shown).split())  # one message, no traceback into numpy or the checks
    assert text.startswith("CheckTimeout: relu: stopped after 1 s in the check 'worked numbers")
    assert "look for a loop that never ends" in text and "Traceback" not in text
    assert all(len(line) <= 83 for line in shown)


def test_a_failed_check_shows_the_message_and_the_hint_first_in_lines_validate_shows_whole():
    def relu(x):
        return np.abs(x)

    with pytest.raises(CheckFailed) as failed:
        grading.check_relu(relu)
    shown = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in failed.value._render_traceback_()]
    text = "\n".join(shown)
    assert text.startswith("CheckFailed:") and "relu failed the check 'worked numbers" in " ".join(shown[:2])
    probably = next(i for i, line in enumerate(shown) if "Probably:" in line)
    assert probably <= 3 and "Probably: you took the absolute value" in shown[probably]
    assert all(len(line) <= 83 for line in shown)  # nbgrader validate cuts longer lines (4 + 83 > 86)
    assert "Traceback" not in "\n".join(shown)
