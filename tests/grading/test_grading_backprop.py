"""course_utils.grading.cases.a3_backprop: the checks of assignment a3 (backward passes).

The instructor's solution (run from ``solutions/a3_backprop``) passes every visible and hidden
check within the 5 s budget per test cell; each typical bug, written the way a student writes it,
fails with the message that names it (forgot to sum over the batch, missed the stride when
scattering, gradient to every tied maximum, padding not cropped, ...); a function that gets its
gradients from PyTorch's autograd or from ``course_utils.reference`` fails the delegation guard.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from course_utils import grading, reference
from course_utils.grading import CheckFailed, DelegationError
from course_utils.grading.cases import a3_backprop as backprop

from solution_checks import assert_bug_is_named, failure_message, solution_functions  # tests/solution_checks.py

ASSIGNMENT = "a3_backprop"

CHECKS = {
    "relu_backward": grading.check_relu_backward,
    "max_pool2d_backward": grading.check_max_pool2d_backward,
    "conv2d_backward": grading.check_conv2d_backward,
}


SOLUTIONS = solution_functions(ASSIGNMENT)


# --- the instructor's solution -----------------------------------------------------------------

@pytest.mark.parametrize("name", list(CHECKS))
def test_the_naive_loop_solution_passes_visible_and_hidden_checks_within_the_time_budget(name, capsys):
    for hidden in (False, True):
        start = time.perf_counter()
        CHECKS[name](SOLUTIONS[name], hidden=hidden)
        seconds = time.perf_counter() - start
        assert seconds < 5, f"{name} (hidden={hidden}) took {seconds:.1f} s; the budget per test cell is 5 s"
    printed = capsys.readouterr().out
    lines = 6 if name == "conv2d_backward" else 2  # conv2d_backward: dx, dw and db
    assert printed.count("\N{CHECK MARK}") == lines and "hidden checks passed" in printed
    assert CHECKS[name](SOLUTIONS[name]) is None  # nothing nbgrader could read as partial credit


def test_the_hidden_checks_cover_the_edge_cases_the_assignment_promises():
    pool_cases = backprop._max_pool_hidden()
    pool = [backprop._pool_args(case) for case in pool_cases]
    assert any(len(case.args) == 3 and "stride" not in case.kwargs for case in pool_cases)  # default
    assert any(stride < size for _, _, size, stride in pool)                               # overlap
    assert any(stride > size for _, _, size, stride in pool)                               # gaps
    assert any(x.shape[2] != x.shape[3] for _, x, _, _ in pool)                            # non-square
    assert {x.dtype for _, x, _, _ in pool} == {np.dtype(np.float32), np.dtype(np.float64)}
    tied = [backprop._if_ties(*args, ties="all") is not None for args in pool]
    assert sum(tied) >= 10 and any(t and args[1].dtype == np.float32 for t, args in zip(tied, pool))
    conv = [backprop._conv_args(case) for case in backprop._conv_hidden()]
    assert len({s for *_, s, _ in conv}) >= 3 and len({p for *_, p in conv}) >= 3
    assert any(x.shape[2] != x.shape[3] for _, x, *_ in conv) and any(w.shape[2] != w.shape[3] for _, _, w, *_ in conv)
    assert {x.dtype for _, x, *_ in conv} == {np.dtype(np.float32), np.dtype(np.float64)}
    assert sum(len(x) > 1 for _, x, *_ in conv) >= len(conv) // 2                          # batches
    relu = backprop._relu_hidden()
    assert any(np.any(case.args[1] == 0) for case in relu)                                 # the kink


def test_the_mistake_models_without_a_mistake_give_the_reference_answer():
    # Each hint fires only if its model of the buggy loop is exact; the unchanged loop must agree.
    for case in backprop._max_pool_hidden():
        dout, x, size, stride = backprop._pool_args(case)
        tolerance = 1e-6 if x.dtype == np.float32 else 1e-12  # overlapping windows add in another order
        np.testing.assert_allclose(backprop._max_pool_variant(dout, x, size, stride),
                                   reference.max_pool2d_backward(dout, x, size, stride),
                                   rtol=tolerance, atol=tolerance, err_msg=case.name)
    for case in backprop._conv_hidden()[:20]:
        dout, x, w, stride, padding = backprop._conv_args(case)
        dx_pad, dw, db = backprop._conv_variant(dout, x, w, stride, padding)
        expected = reference.conv2d_backward(dout, x, w, stride, padding)
        tolerance = 1e-4 if x.dtype == np.float32 else 1e-10
        for got, want in zip((backprop._crop(dx_pad, padding), dw, db), expected):
            np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance, err_msg=case.name)


def test_conv2d_backward_is_called_once_per_case_and_a_failure_names_the_wrong_gradient():
    calls = []

    def counting(dout, x, w, b, stride=1, padding=0):
        calls.append(x.shape)
        return SOLUTIONS["conv2d_backward"](dout, x, w, b, stride, padding)

    grading.check_conv2d_backward(counting)
    assert len(calls) == len(backprop._conv_visible())

    def wrong_db(dout, x, w, b, stride=1, padding=0):
        dx, dw, db = SOLUTIONS["conv2d_backward"](dout, x, w, b, stride, padding)
        return dx, dw, db + 1

    message = failure_message(grading.check_conv2d_backward, wrong_db)
    assert message.startswith("conv2d_backward failed the check 'worked example (3x3 image, 2x2 kernel) [db]'")
    assert "expected 10, got 11" in message


# --- typical bugs, written the way students write them ----------------------------------------------

def relu_backward_student(*, gate=lambda x, dout: x > 0, value=lambda dout, x: dout, in_place=False,
                          dtype=None):
    def relu_backward(dout, x):
        if in_place:
            dout[x <= 0] = 0
            return dout
        dx = np.where(gate(x, dout), value(dout, x), 0)
        return dx.astype(dtype or dout.dtype)
    return relu_backward


def max_pool_student(*, read_stride=True, scatter_stride=True, ties="first", add=True, default_stride=True, dtype_of_x=True,
                     spread=False, times_dout=True):
    """A plain-loop max_pool2d_backward with one switchable mistake."""
    def max_pool2d_backward(dout, x, size, stride=None):
        if default_stride and stride is None:
            stride = size
        n_images, channels, _, _ = x.shape
        _, _, h_out, w_out = dout.shape
        dx = np.zeros(x.shape, dtype=x.dtype if dtype_of_x else np.float64)
        for n in range(n_images):
            for c in range(channels):
                for y in range(h_out):
                    for x_ in range(w_out):
                        top, left = (y * stride, x_ * stride) if read_stride else (y, x_)
                        window = x[n, c, top:top + size, left:left + size]
                        g = dout[n, c, y, x_] if times_dout else 1.0
                        if not scatter_stride:
                            top, left = y, x_  # send the gradient to the wrong window
                        if spread:
                            dx[n, c, top:top + size, left:left + size] += g / (size * size)
                            continue
                        if ties == "all":
                            dx[n, c, top:top + size, left:left + size] += (window == window.max()) * g
                            continue
                        flat = np.argmax(window) if ties == "first" else window.size - 1 - np.argmax(window.ravel()[::-1])
                        i, j = np.unravel_index(flat, window.shape)
                        if add:
                            dx[n, c, top + i, left + j] += g
                        else:
                            dx[n, c, top + i, left + j] = g
        return dx
    return max_pool2d_backward


def conv_student(*, batch="sum", db_axes=(0, 2, 3), scatter_stride=True, crop="right", add_dx=True,
                 order="dx dw db", dtype_of_x=True, in_place=False, as_tuple=True):
    """A plain-loop conv2d_backward with one switchable mistake."""
    def conv2d_backward(dout, x, w, b, stride=1, padding=0):
        if in_place:
            x -= x.mean()
        n_images, _, height, width = x.shape
        n_filters, _, kh, kw = w.shape
        _, _, h_out, w_out = dout.shape
        p = padding
        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        dx_pad = np.zeros(x_pad.shape, dtype=x.dtype if dtype_of_x else np.float64)
        dw = np.zeros_like(w)
        for n in range(n_images):
            if batch == "last image":
                dw = np.zeros_like(w)  # reset for every image: only the last one remains
            for f in range(n_filters):
                for y in range(h_out):
                    for x_ in range(w_out):
                        top, left = (y * stride, x_ * stride) if scatter_stride else (y, x_)
                        g = dout[n, f, y, x_]
                        dw[f] += g * x_pad[n, :, top:top + kh, left:left + kw]
                        if add_dx:
                            dx_pad[n, :, top:top + kh, left:left + kw] += g * w[f]
                        else:
                            dx_pad[n, :, top:top + kh, left:left + kw] = g * w[f]
        if batch == "mean":
            dw = dw / n_images
        db = dout.sum(axis=db_axes)
        if crop == "right":
            dx = dx_pad[:, :, p:p + height, p:p + width]
        elif crop == "p:-p":
            dx = dx_pad[:, :, p:-p, p:-p]
        else:
            dx = dx_pad
        if not as_tuple:
            return dx
        grads = {"dx": dx, "dw": dw, "db": db}
        return tuple(grads[name] for name in order.split())
    return conv2d_backward


# (check, buggy function, hidden, words the message must contain)
TYPICAL_BUGS = {
    "relu_backward lets the gradient through at x == 0": (
        "relu_backward", relu_backward_student(gate=lambda x, dout: x >= 0), False,
        ["check 'worked numbers", "first difference at index (2,): expected 0, got 3",
         "Probably: you let the gradient through where x == 0"]),
    "relu_backward returns the gate": (
        "relu_backward", relu_backward_student(value=lambda dout, x: np.ones_like(dout)), False,
        ["Probably: you returned the gate itself"]),
    "relu_backward multiplies by relu(x)": (
        "relu_backward", relu_backward_student(value=lambda dout, x: dout * x), False,
        ["Probably: you multiplied dout by relu(x)"]),
    "relu_backward gates with dout": (
        "relu_backward", relu_backward_student(gate=lambda x, dout: dout > 0), False,
        ["Probably: you gated with the sign of dout"]),
    "relu_backward forgets the gate": (
        "relu_backward", relu_backward_student(gate=lambda x, dout: np.ones(x.shape, bool)), False,
        ["Probably: you returned dout unchanged"]),
    "relu_backward writes into dout": (
        "relu_backward", relu_backward_student(in_place=True), False,
        ["modified its input in place", "argument 1 (float64 array (5,)) was changed by the call",
         "at index (0,) it was 1, now 0"]),
    "relu_backward returns float64 for float32": (
        "relu_backward", relu_backward_student(dtype=np.float64), True,
        ["check 'float32 stays float32'", "expected float32 (the dtype of the input), got float64"]),
    "max_pool2d_backward misses the stride when scattering": (
        "max_pool2d_backward", max_pool_student(scatter_stride=False), False,
        ["check 'worked example (4x4, size 2, tied maxima)'",
         "Probably: you missed the stride when scattering the gradient back"]),
    "max_pool2d_backward forgets the stride altogether": (
        "max_pool2d_backward", max_pool_student(read_stride=False, scatter_stride=False), False,
        ["Probably: you forgot the stride: the window of output (y, x) starts at"]),
    "max_pool2d_backward sends the gradient to every tied maximum": (
        "max_pool2d_backward", max_pool_student(ties="all"), False,
        ["check 'worked example (4x4, size 2, tied maxima)'", "first difference at index (0, 0, 1, 0): expected 0, got 1",
         "Probably: on a tie you sent the gradient to every maximum of the window"]),
    "max_pool2d_backward sends the gradient to the last tied maximum": (
        "max_pool2d_backward", max_pool_student(ties="last"), False,
        ["Probably: on a tie you sent the gradient to the last maximum"]),
    "max_pool2d_backward overwrites where windows overlap": (
        "max_pool2d_backward", max_pool_student(add=False), False,
        ["check 'overlapping windows: size 3, stride 1'", "Probably: overlapping windows (stride < size) overwrote"]),
    "max_pool2d_backward spreads like average pooling": (
        "max_pool2d_backward", max_pool_student(spread=True), False,
        ["Probably: you spread the gradient over the window like average pooling"]),
    "max_pool2d_backward routes ones, not dout": (
        "max_pool2d_backward", max_pool_student(times_dout=False), False,
        ["Probably: you marked the winning positions with 1 but did not multiply by dout"]),
    "max_pool2d_backward returns float64 for float32": (
        "max_pool2d_backward", max_pool_student(dtype_of_x=False), True,
        ["wrong dtype", "expected float32 (the dtype of the input), got float64"]),
    "conv2d_backward keeps only the last image's dw": (
        "conv2d_backward", conv_student(batch="last image"), False,
        ["check '2 images, 3 channels, 4 filters [dw]'", "Probably: you forgot to sum over the batch for dw"]),
    "conv2d_backward averages dw over the batch": (
        "conv2d_backward", conv_student(batch="mean"), False,
        ["[dw]'", "Probably: you forgot to sum over the batch for dw"]),
    "conv2d_backward keeps one db per image": (
        "conv2d_backward", conv_student(db_axes=(2, 3)), False,
        ["check 'worked example (3x3 image, 2x2 kernel) [db]': wrong shape", "expected shape (1,), got (1, 1)",
         "Probably: you forgot to sum over the batch for db"]),
    "conv2d_backward takes db from the wrong axes": (
        "conv2d_backward", conv_student(db_axes=(1, 2, 3)), False,
        ["[db]'", "Probably: you summed dout over the wrong axes"]),
    "conv2d_backward misses the stride when scattering": (
        "conv2d_backward", conv_student(scatter_stride=False), False,
        ["check 'stride 2 [dx]'", "Probably: you missed the stride when scattering"]),
    "conv2d_backward does not crop the padding from dx": (
        "conv2d_backward", conv_student(crop="none"), False,
        ["check 'padding 1 [dx]': wrong shape", "expected shape (2, 1, 4, 4), got (2, 1, 6, 6)",
         "Probably: you did not crop the padding off dx"]),
    "conv2d_backward crops with p:-p": (
        "conv2d_backward", conv_student(crop="p:-p"), False,
        ["check 'worked example (3x3 image, 2x2 kernel) [dx]': wrong shape", "got (1, 1, 0, 0)",
         "Probably: with padding 0, dx_pad[:, :, p:-p, p:-p] is empty"]),
    "conv2d_backward overwrites dx": (
        "conv2d_backward", conv_student(add_dx=False), False,
        ["[dx]'", "Probably: you overwrote dx instead of adding to it"]),
    "conv2d_backward returns dw, dx, db": (
        "conv2d_backward", conv_student(order="dw dx db"), False,
        ["[dx]': wrong shape", "Probably: you returned the three gradients in another order"]),
    "conv2d_backward returns float64 for float32": (
        "conv2d_backward", conv_student(dtype_of_x=False), True,
        ["check 'float32 stays float32 [dx]'", "expected float32 (the dtype of the input), got float64"]),
    "conv2d_backward modifies x in place": (
        "conv2d_backward", conv_student(in_place=True), False,
        ["modified its input in place", "argument 2 (float64 array (1, 1, 3, 3)) was changed by the call"]),
}


@pytest.mark.parametrize("bug", list(TYPICAL_BUGS))
def test_each_typical_bug_fails_with_the_message_that_names_it(bug):
    name, function, hidden, words = TYPICAL_BUGS[bug]
    assert_bug_is_named(CHECKS[name], name, function, hidden, words, bug)


def test_returning_only_dx_says_that_three_arrays_are_expected():
    with pytest.raises(CheckFailed) as caught:
        grading.check_conv2d_backward(conv_student(as_tuple=False))
    message = " ".join(str(caught.value).split())
    assert "conv2d_backward must return the three gradients as a tuple (return dx, dw, db)" in message
    assert "in the check 'worked example (3x3 image, 2x2 kernel)' it returned one array of shape (1, 1, 3, 3)" in message


def test_a_blank_function_raises_its_own_not_implemented_error_with_a_note():
    def conv2d_backward(dout, x, w, b, stride=1, padding=0):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError) as caught:
        grading.check_conv2d_backward(conv2d_backward)
    notes = "\n".join(caught.value.__notes__)
    assert "while checking conv2d_backward" in notes and "replace `raise NotImplementedError()`" in notes


def test_a_missing_default_stride_raises_the_type_error_with_a_hint():
    with pytest.raises(TypeError) as caught:
        grading.check_max_pool2d_backward(max_pool_student(default_stride=False))
    assert any("stride = size when it is None" in note for note in caught.value.__notes__)


# --- the delegation guard ------------------------------------------------------------------------

answer_key = reference.conv2d_backward  # a student who imported the answer key under another name


def conv_backward_from_the_answer_key(dout, x, w, b, stride=1, padding=0):
    return answer_key(dout, x, w, stride, padding)


def conv_backward_by_autograd(dout, x, w, b, stride=1, padding=0):
    import torch
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(torch.tensor(dout))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def conv_backward_by_hidden_autograd(dout, x, w, b, stride=1, padding=0):
    library = __import__("to" + "rch")
    make = getattr(library, "zeros")
    xt = make(x.shape, dtype=library.float64, requires_grad=True)
    with library.no_grad():
        for index in np.ndindex(x.shape):  # no torch.tensor, no from_numpy: element by element
            xt[index] = float(x[index])
    out = (xt * 2).sum()
    out.backward()  # reaches torch.autograd.backward
    return xt.grad.numpy(), np.zeros_like(w), np.zeros_like(b)


def conv_backward_by_torch_nn_grad(dout, x, w, b, stride=1, padding=0):
    grad = __import__("importlib").import_module("torch.nn." + "grad")
    library = __import__("torch")
    weight, grad_out = library.zeros(w.shape), library.zeros(dout.shape)  # (values not copied: short)
    dx = grad.conv2d_input(x.shape, weight, grad_out, stride=stride, padding=padding)
    return dx.numpy(), np.zeros_like(w), np.zeros_like(b)


def relu_backward_by_the_module(dout, x):
    return reference.relu_backward(dout, x)


def max_pool_backward_through_importlib(dout, x, size, stride=None):
    import importlib
    module = importlib.import_module("course_utils." + "reference")
    return getattr(module, "max_pool2d_" + "backward")(dout, x, size, stride)


DELEGATIONS = {
    "a global alias of reference.conv2d_backward": (
        "conv2d_backward", conv_backward_from_the_answer_key,
        "course_utils.reference.backward.conv2d_backward (the name `answer_key`)"),
    "torch autograd imported inside": ("conv2d_backward", conv_backward_by_autograd, "`import torch`"),
    "Tensor.backward reached through __import__": (
        "conv2d_backward", conv_backward_by_hidden_autograd, "torch.autograd.backward"),
    "torch.nn.grad.conv2d_input": (
        "conv2d_backward", conv_backward_by_torch_nn_grad, "torch.nn.grad.conv2d_input"),
    "the course_utils.reference module": (
        "relu_backward", relu_backward_by_the_module, "the module course_utils.reference (the name `reference`)"),
    "importlib and getattr": (
        "max_pool2d_backward", max_pool_backward_through_importlib, "course_utils.reference.max_pool2d_backward"),
}


@pytest.mark.parametrize("way", list(DELEGATIONS))
def test_a_function_that_delegates_fails_with_a_message_saying_so(way):
    import torch  # imported, as in a kernel where the student imported it: tripwires, not import refusal

    name, function, words = DELEGATIONS[way]
    with pytest.raises(DelegationError) as caught:
        CHECKS[name](function)
    message = " ".join(str(caught.value).split())  # the words, whatever the line breaks
    assert message.startswith(f"{name} delegates instead of computing")
    assert words in message, message
    assert "PyTorch (its autograd included)" in message
    assert torch.autograd.backward.__module__ == "torch.autograd"  # put back afterwards
