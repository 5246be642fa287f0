"""Every bad input raises ValueError/TypeError whose message names the argument and the problem."""

from __future__ import annotations

import numpy as np
import pytest

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
