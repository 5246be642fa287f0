"""Every bad input raises ValueError/TypeError whose message names the argument and the problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import reference

X4 = np.ones((2, 3, 5, 5))
W4 = np.ones((4, 3, 3, 3))


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        # channel mismatch, with both shapes in the message
        (lambda: reference.conv2d(X4, np.ones((8, 1, 3, 3))), ValueError,
         r"input has 3 channels but weight expects 1 .*weight shape \(8, 1, 3, 3\)"),
        # kernel larger than the padded input
        (lambda: reference.conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3))), ValueError,
         r"kernel covers 3x3 .* padded input is only 2x2"),
        (lambda: reference.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), dilation=3), ValueError,
         r"kernel covers 4x4 .*dilation"),
        # stride / dilation below 1, negative padding
        (lambda: reference.conv2d(X4, W4, stride=0), ValueError, r"stride must be at least 1, got 0"),
        (lambda: reference.conv2d(X4, W4, stride=(1, -2)), ValueError, r"stride must be at least 1"),
        (lambda: reference.conv2d(X4, W4, dilation=0), ValueError, r"dilation must be at least 1"),
        (lambda: reference.conv2d(X4, W4, padding=-1), ValueError, r"padding must be at least 0"),
        (lambda: reference.conv2d(X4, W4, padding=(0, -1)), ValueError, r"padding must be at least 0"),
        (lambda: reference.conv2d(X4, W4, stride=1.5), TypeError, r"stride must be an int or a pair"),
        (lambda: reference.conv2d(X4, W4, stride=True), TypeError, r"stride must be an int or a pair"),
        (lambda: reference.conv2d(X4, W4, padding="full"), ValueError, r"padding must be .*'same'"),
        # 'same' with stride > 1
        (lambda: reference.conv2d(X4, W4, stride=2, padding="same"), ValueError,
         r"padding='same' needs stride 1"),
        # wrong number of dimensions
        (lambda: reference.conv2d(np.ones(5), W4), ValueError, r"x must be 4-D .* got a 1-D array of shape \(5,\)"),
        (lambda: reference.conv2d(X4, np.ones((3, 3))), ValueError, r"weight must be 4-D \(F, C, KH, KW\)"),
        (lambda: reference.conv2d(np.ones((5, 5)), W4), ValueError, r"weight must be 2-D \(KH, KW\)"),
        (lambda: reference.conv2d(X4, W4, bias=np.ones(3)), ValueError, r"bias must have shape \(4,\)"),
        # non-numeric input
        (lambda: reference.conv2d("abc", W4), TypeError, r"x must hold real numbers"),
        (lambda: reference.conv2d(X4, W4.astype(complex)), TypeError, r"weight must hold real numbers .*complex"),
        (lambda: reference.conv2d(None, W4), TypeError, r"x is None"),
        (lambda: reference.conv2d([[1, 2], [3]], np.ones((1, 1))), TypeError, r"x must be a rectangular"),
        (lambda: reference.conv2d_naive(X4, np.ones((8, 1, 3, 3))), ValueError,
         r"conv2d_naive: input has 3 channels"),
        # pooling
        (lambda: reference.max_pool2d(X4, 2, padding=2), ValueError, r"padding must be at most half the kernel"),
        (lambda: reference.avg_pool2d(X4, 3, padding=2), ValueError, r"padding must be at most half the kernel"),
        (lambda: reference.max_pool2d(X4, 3, padding=2, dilation=2), ValueError,
         r"padding must be at most half the kernel, got padding \(2, 2\) with kernel_size \(3, 3\)"),
        (lambda: reference.max_pool2d(X4, 0), ValueError, r"kernel_size must be at least 1"),
        (lambda: reference.max_pool2d(X4, 2, stride=0), ValueError, r"stride must be at least 1"),
        (lambda: reference.max_pool2d(X4, 6), ValueError, r"kernel covers 6x6 .* padded input is only 5x5"),
        (lambda: reference.avg_pool2d(np.ones((1, 1, 1, 1, 1)), 1), ValueError, r"x must be 4-D"),
        (lambda: reference.max_pool2d(np.array(["a"]), 1), TypeError, r"x must hold real numbers"),
        (lambda: reference.relu({"a": 1}), TypeError, r"relu: x must hold real numbers"),
        # output_size and pad
        (lambda: reference.output_size(5, 3, stride=0), ValueError, r"stride must be at least 1"),
        (lambda: reference.output_size(5, 3, padding=-1), ValueError, r"padding must be at least 0"),
        (lambda: reference.output_size(5, 7), ValueError, r"kernel covers 7 pixels"),
        (lambda: reference.output_size(5, 3, padding="same", stride=2), ValueError, r"needs stride 1"),
        (lambda: reference.output_size(5.0, 3), TypeError, r"n must be an int"),
        (lambda: reference.pad(np.ones(3), 1), ValueError, r"x must have at least 2 dimensions"),
        (lambda: reference.pad(np.ones((3, 3)), -1), ValueError, r"padding must be at least 0"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_errors_name_the_function_that_was_called():
    with pytest.raises(ValueError, match=r"^max_pool2d: "):
        reference.max_pool2d(X4, 2, stride=0)
    with pytest.raises(ValueError, match=r"^avg_pool2d: "):
        reference.avg_pool2d(X4, 2, stride=0)


# PyTorch's options (groups, ceil_mode, return_indices, max_unpool2d, count_include_pad,
# divisor_override, softmax's dim and dtype): each bad call is one that PyTorch refuses too.
T4 = torch.ones(1, 4, 5, 5)
X1 = np.ones((1, 4, 5, 5))
POOLED, INDICES = np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), dtype=np.int64)
POOLED_T, INDICES_T = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2, dtype=torch.long)
REFUSED_BY_TORCH = (RuntimeError, ValueError, TypeError, IndexError)


@pytest.mark.parametrize(
    "ours, theirs, error, pattern",
    [
        # groups
        (lambda: reference.conv2d(X1, np.ones((3, 1, 3, 3)), groups=3),
         lambda: F.conv2d(T4, torch.ones(3, 1, 3, 3), groups=3), ValueError,
         r"conv2d: groups=3 must divide the input's 4 channels \(x shape \(1, 4, 5, 5\)\)"),
        (lambda: reference.conv2d(X1, np.ones((3, 2, 3, 3)), groups=2),
         lambda: F.conv2d(T4, torch.ones(3, 2, 3, 3), groups=2), ValueError,
         r"groups=2 must divide the number of filters, but weight has 3 \(weight shape \(3, 2, 3, 3\)"),
        (lambda: reference.conv2d(X1, np.ones((4, 1, 3, 3)), groups=2),
         lambda: F.conv2d(T4, torch.ones(4, 1, 3, 3), groups=2), ValueError,
         r"input has 4 channels but weight expects 2 \(1 per group x groups=2\) .*\(F, C/groups, KH, KW\)"),
        (lambda: reference.conv2d_naive(X1, np.ones((4, 1, 3, 3)), groups=2),
         lambda: F.conv2d(T4, torch.ones(4, 1, 3, 3), groups=2), ValueError,
         r"conv2d_naive: input has 4 channels but weight expects 2"),
        (lambda: reference.conv2d(X1, np.ones((4, 4, 3, 3)), groups=0),
         lambda: F.conv2d(T4, torch.ones(4, 4, 3, 3), groups=0), ValueError,
         r"groups must be at least 1, got 0"),
        (lambda: reference.conv2d(X1, np.ones((4, 2, 3, 3)), groups=2.0),
         lambda: F.conv2d(T4, torch.ones(4, 2, 3, 3), groups=2.0), TypeError,
         r"groups must be an int, got 2.0"),
        (lambda: reference.conv2d_backward(np.ones((1, 3, 3, 3)), X1, np.ones((3, 2, 3, 3)), groups=2),
         lambda: F.conv2d(T4, torch.ones(3, 2, 3, 3), groups=2), ValueError,
         r"conv2d_backward: groups=2 must divide the number of filters"),
        # ceil_mode
        (lambda: reference.max_pool2d(np.ones((1, 1, 1, 1)), 3, 2, ceil_mode=True),
         lambda: F.max_pool2d(torch.ones(1, 1, 1, 1), 3, 2, ceil_mode=True), ValueError,
         r"max_pool2d: the kernel covers 3x3 pixels .* padded input is only 1x1 .*ceil_mode=True "
         r"lets a window hang over it by at most stride - 1 = \(1, 1\)"),
        (lambda: reference.avg_pool2d_backward(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), 3, 2, ceil_mode=True),
         lambda: F.avg_pool2d(torch.ones(1, 1, 1, 1), 3, 2, ceil_mode=True), ValueError,
         r"avg_pool2d_backward: the kernel covers 3x3 pixels"),
        (lambda: reference.max_pool2d(X4, 2, ceil_mode=1),
         lambda: F.max_pool2d(torch.ones(2, 3, 5, 5), 2, ceil_mode=1), TypeError,
         r"max_pool2d: ceil_mode must be True or False, got 1"),
        (lambda: reference.max_pool2d_backward(np.ones((2, 3, 3, 3)), X4, 2, ceil_mode="yes"),
         lambda: F.max_pool2d(torch.ones(2, 3, 5, 5), 2, ceil_mode="yes"), TypeError,
         r"max_pool2d_backward: ceil_mode must be True or False, got 'yes'"),
        (lambda: reference.max_pool2d_backward(np.ones((2, 3, 2, 2)), X4, 2, ceil_mode=True),
         lambda: F.max_pool2d(torch.ones(2, 3, 5, 5, requires_grad=True), 2, ceil_mode=True)
         .backward(torch.ones(2, 3, 2, 2)), ValueError,
         r"grad_out has shape \(2, 3, 2, 2\) but max_pool2d's output has shape \(2, 3, 3, 3\) .*ceil_mode=True"),
        # count_include_pad, divisor_override
        (lambda: reference.avg_pool2d(X4, 2, count_include_pad="no"),
         lambda: F.avg_pool2d(torch.ones(2, 3, 5, 5), 2, count_include_pad="no"), TypeError,
         r"avg_pool2d: count_include_pad must be True or False, got 'no'"),
        (lambda: reference.avg_pool2d(X4, 2, divisor_override=0),
         lambda: F.avg_pool2d(torch.ones(2, 3, 5, 5), 2, divisor_override=0), ValueError,
         r"avg_pool2d: divisor_override must not be 0"),
        (lambda: reference.avg_pool2d_backward(np.ones((2, 3, 2, 2)), X4, 2, divisor_override=0),
         lambda: F.avg_pool2d(torch.ones(2, 3, 5, 5), 2, divisor_override=0), ValueError,
         r"avg_pool2d_backward: divisor_override must not be 0"),
        (lambda: reference.avg_pool2d(X4, 2, divisor_override=2.0),
         lambda: F.avg_pool2d(torch.ones(2, 3, 5, 5), 2, divisor_override=2.0), TypeError,
         r"divisor_override must be an int \(or None\), got 2.0"),
        (lambda: reference.avg_pool2d(X4, 2, divisor_override=True),
         lambda: F.avg_pool2d(torch.ones(2, 3, 5, 5), 2, divisor_override=True), TypeError,
         r"divisor_override must be an int \(or None\), got True"),
        # return_indices: the other arguments are still checked; avg_pool2d has no indices
        (lambda: reference.max_pool2d(X4, 2, padding=2, return_indices=True),
         lambda: F.max_pool2d(torch.ones(2, 3, 5, 5), 2, padding=2, return_indices=True), ValueError,
         r"padding must be at most half the kernel"),
        (lambda: reference.max_pool2d(X4, 6, return_indices=True),
         lambda: F.max_pool2d(torch.ones(2, 3, 5, 5), 6, return_indices=True), ValueError,
         r"kernel covers 6x6 .* padded input is only 5x5"),
        (lambda: reference.max_pool2d(X4, 2, return_indices=np.array([True, False])),
         lambda: F.max_pool2d(torch.ones(2, 3, 5, 5), 2, return_indices=np.array([True, False])),
         TypeError, r"max_pool2d: return_indices must be True or False, got array"),
        (lambda: reference.avg_pool2d(X4, 2, return_indices=True),
         lambda: F.avg_pool2d(torch.ones(2, 3, 5, 5), 2, return_indices=True), TypeError,
         r"unexpected keyword argument 'return_indices'"),
        # max_unpool2d
        (lambda: reference.max_unpool2d(POOLED, np.zeros((1, 1, 2, 3), dtype=np.int64), 2),
         lambda: F.max_unpool2d(POOLED_T, torch.zeros(1, 1, 2, 3, dtype=torch.long), 2), ValueError,
         r"max_unpool2d: indices has shape \(1, 1, 2, 3\) but x has shape \(1, 1, 2, 2\)"),
        (lambda: reference.max_unpool2d(POOLED, INDICES + 16, 2),
         lambda: F.max_unpool2d(POOLED_T, INDICES_T + 16, 2), ValueError,
         r"indices holds 16 at position \(0, 0, 0, 0\), but the output planes are 4x4 "
         r"\(positions 0 to 15\); .*output_size"),
        (lambda: reference.max_unpool2d(POOLED, INDICES - 1, 2),
         lambda: F.max_unpool2d(POOLED_T, INDICES_T - 1, 2), ValueError, r"indices holds -1"),
        (lambda: reference.max_unpool2d(POOLED, INDICES.astype(float), 2),
         lambda: F.max_unpool2d(POOLED_T, INDICES_T.double(), 2), TypeError,
         r"indices must hold integers .* got dtype float64"),
        (lambda: reference.max_unpool2d(POOLED, None, 2),
         lambda: F.max_unpool2d(POOLED_T, None, 2), TypeError, r"indices is None"),
        (lambda: reference.max_unpool2d(POOLED, INDICES, 2, output_size=(6, 5)),
         lambda: F.max_unpool2d(POOLED_T, INDICES_T, 2, output_size=(6, 5)), ValueError,
         r"output_size \(6, 5\) has height 6, but it must be strictly between 2 and 6"),
        (lambda: reference.max_unpool2d(POOLED, INDICES, 2, output_size=(1, 5, 5)),
         lambda: F.max_unpool2d(POOLED_T, INDICES_T, 2, output_size=(1, 5, 5)), TypeError,
         r"output_size must be \(H, W\) or \(N, C, H, W\), ints, got \(1, 5, 5\)"),
        (lambda: reference.max_unpool2d(np.ones(4), np.zeros(4, dtype=np.int64), 2),
         lambda: F.max_unpool2d(torch.ones(4), torch.zeros(4, dtype=torch.long), 2), ValueError,
         r"max_unpool2d: x must be 4-D .* got a 1-D array"),
        # softmax
        (lambda: reference.softmax(np.ones((2, 2)), 2),
         lambda: torch.softmax(torch.ones(2, 2), 2), IndexError,
         r"softmax: axis must be in \[-2, 1\] for scores of shape \(2, 2\), got 2"),
        (lambda: reference.softmax(np.float64(3.0), dim=1),
         lambda: torch.softmax(torch.tensor(3.0), 1), IndexError,
         r"softmax: axis must be in \[-1, 0\] for scores of shape \(\), got 1"),
        (lambda: reference.softmax(np.ones((2, 2)), 1.0),
         lambda: torch.softmax(torch.ones(2, 2), 1.0), TypeError, r"softmax: axis must be an int, got 1.0"),
        (lambda: reference.softmax(np.ones((2, 2)), 0, dtype=np.int64),
         lambda: torch.softmax(torch.ones(2, 2), 0, dtype=torch.int64), TypeError,
         r"softmax: dtype must be np.float32 or np.float64 \(or None\)"),
        # output_size
        (lambda: reference.output_size(1, 3, stride=2, ceil_mode=True),
         lambda: torch.nn.MaxPool2d(3, 2, ceil_mode=True)(torch.ones(1, 1, 1, 1)), ValueError,
         r"output_size: the kernel covers 3 pixels .* plus the stride - 1 = 1 that ceil_mode lets"),
        (lambda: reference.output_size(5, 2, ceil_mode=1),
         lambda: torch.nn.MaxPool2d(2, ceil_mode=1)(torch.ones(1, 1, 5, 5)), TypeError,
         r"output_size: ceil_mode must be True or False, got 1"),
    ],
)
def test_bad_pytorch_options_raise_clear_errors_where_pytorch_refuses_too(ours, theirs, error, pattern):
    with pytest.raises(error, match=pattern):
        ours()
    with pytest.raises(REFUSED_BY_TORCH):
        theirs()
