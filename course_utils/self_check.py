"""Self-check exercises for the lessons: the student types an answer, gets told at once.

In a notebook::

    from course_utils.self_check import check
    answer = ...            # the student replaces ... with a number, a tuple or an array
    check("01.window_value", answer)

prints ``✓ Correct!`` or ``✗`` and what is wrong: not answered yet, the wrong shape, the first wrong
value, or -- for the mistakes people usually make -- the likely cause ("you flipped the
kernel"). The answers live here, not in the notebook, and are computed with
:mod:`course_utils.reference` where they can be. Nothing here is graded (see
``course_utils.grading`` for that).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from course_utils import conv_variants, images, kernels
from course_utils.reference import (
    avg_pool2d,
    avg_pool2d_backward,
    conv2d,
    max_pool2d,
    max_pool2d_backward,
    output_size,
    relu,
    softmax,
)
from course_utils.reference.receptive_field import Layer, receptive_fields


@dataclass(frozen=True)
class Exercise:
    """One question's answer and what to say about likely wrong answers."""

    expected: object  # a number, a tuple of ints (a shape) or an array
    hint: str  # shown with any wrong answer that is not a known mistake
    mistakes: tuple[tuple[object, str], ...] = field(default=())  # (wrong answer, its likely cause)
    tolerance: float = 1e-6  # absolute, per value


POOL_MAP = np.array([[3, 1, 0, 2], [4, 8, 1, 1], [0, 2, 5, 7], [1, 1, 3, 0]], dtype=float)

POOL_TIES = np.array([[1, 3, 2, 2], [3, 0, 2, 1], [0, 4, 5, 1], [2, 1, 0, 5]], dtype=float)
POOL_TIES_GRAD = np.array([[10.0, 20.0], [30.0, 40.0]])

EXERCISES: dict[str, Exercise] = {
    # Lesson 01 ---------------------------------------------------------------------------
    "01.window_value": Exercise(
        expected=float(images.WORKED_EXAMPLE_OUTPUT[2, 0]),
        hint="Output (2, 0) is the window whose top-left corner is image row 2, column 0: rows "
             "2-4, columns 0-2. Multiply each pixel by the kernel weight on top of it and add.",
        mistakes=((float(images.WORKED_EXAMPLE_OUTPUT[0, 2]),
                   "That is output (0, 2): row first, then column."),),
    ),
    "01.edge_value": Exercise(
        expected=float(conv2d(images.edge_image_6x6(), kernels.kernel("vertical_edge"))[0, 1]),
        hint="The window at output (0, 1) covers columns 1-3: two columns of 10s and one of 0s.",
        mistakes=((-30.0, "You flipped the kernel (true convolution). Deep learning slides the "
                          "kernel as it is: cross-correlation."),
                   (0.0, "That is output (0, 0) or (0, 3), where the window sees no edge.")),
    ),
    "01.conv_output_shape": Exercise(
        expected=(10, 28, 28),
        hint="(F, H_out, W_out): one map per filter, each n - f + 1 pixels on a side.",
        mistakes=(((28, 28, 10), "Right numbers, wrong order: PyTorch puts channels first, "
                                 "(F, H, W)."),
                  ((10, 32, 32), "The map shrinks: a 5x5 window fits 32 - 5 + 1 times."),
                  ((3, 28, 28), "One map per *filter* (10), not per input channel: each filter "
                                "sums over all 3 channels.")),
    ),
    "01.conv_parameters": Exercise(
        expected=32 * 3 * 3 * 3 + 32,
        hint="Each filter has kernel_height x kernel_width x in_channels weights plus one bias.",
        mistakes=((32 * 3 * 3 * 3, "Add one bias per filter."),
                  (32 * 3 * 3 + 32, "Each filter spans all 3 input channels: 3x3x3 weights."),
                  (32 * 3 * 3, "Each filter has 3x3x3 weights (all input channels) and a bias.")),
    ),
    # Lesson 02 ---------------------------------------------------------------------------
    "02.output_size": Exercise(
        expected=output_size(7, 3, padding=1, stride=2),
        hint="floor((n + 2p - f) / s) + 1 with n = 7, f = 3, p = 1, s = 2.",
        mistakes=((7, "That is the 'same' size, which holds for stride 1 only."),
                  (3, "Did you forget the padding? (7 + 2*1 - 3) / 2 + 1.")),
    ),
    "02.non_whole_division": Exercise(
        expected=output_size(6, 3, padding=0, stride=2),
        hint="(6 - 3) / 2 = 1.5 is not whole: the formula rounds down (floor), then adds 1.",
        mistakes=((2.5, "Round down before adding 1: a window hanging over the edge is dropped."),
                  (3, "That rounds up; PyTorch rounds down (a half window is never computed)."),
                  (1.5, "You forgot the + 1 (and the floor).")),
    ),
    "02.same_padding": Exercise(
        expected=2,
        hint="p = (f - 1) / 2 on each side.",
        mistakes=((4, "4 is the total for both sides together; p is per side."),
                  (2.5, "f - 1 = 4, so p = 4 / 2 = 2.")),
    ),
    "02.weight_shape": Exercise(
        expected=(16, 3, 5, 5),
        hint="nn.Conv2d's weight is (out_channels, in_channels, kernel_height, kernel_width).",
        mistakes=(((3, 16, 5, 5), "out_channels comes first: one (3, 5, 5) filter per output "
                                  "channel."),
                  ((16, 5, 5, 3), "PyTorch is channels-first: (out, in, kh, kw)."),
                  ((16, 5, 5), "Each filter also spans the 3 input channels.")),
    ),
    "02.dense_weights": Exercise(
        expected=32 * 32 * 3 * 28 * 28 * 6,
        hint="Every one of the 28*28*6 outputs is connected to every one of the 32*32*3 inputs.",
        mistakes=((32 * 32 * 3 * 28 * 28 * 6 + 28 * 28 * 6,
                   "Close: the question asks for the weights only, without the biases."),),
        tolerance=0.5,
    ),
    "02.conv_parameters": Exercise(
        expected=6 * (5 * 5 * 3 + 1),
        hint="6 filters, each 5x5x3 weights plus one bias.",
        mistakes=((6 * 5 * 5 * 3, "Add one bias per filter."),
                  (6 * 5 * 5 + 6, "Each filter spans all 3 input channels: 5x5x3 weights."),
                  (5 * 5 * 3 + 1, "That is one filter; the layer has 6.")),
    ),
    # Lesson 03 ---------------------------------------------------------------------------
    "03.relu_values": Exercise(
        expected=relu(np.array([-2.0, 0.5, 0.0, 3.0, -0.1])),
        hint="max(0, x) for each number: negatives become 0, the rest stay as they are.",
        mistakes=((np.array([2.0, 0.5, 0.0, 3.0, 0.1]), "ReLU does not take the absolute value: "
                                                       "negatives become 0."),),
    ),
    "03.leaky_value": Exercise(
        expected=-0.3,
        hint="Leaky ReLU multiplies a negative input by the slope (0.1) instead of zeroing it.",
        mistakes=((0.0, "That is plain ReLU; the leaky one lets 0.1 of a negative value through."),
                  (-3.0, "Multiply by the slope 0.1.")),
    ),
    "03.stacked_kernel_size": Exercise(
        expected=5,
        hint="One output of the second conv sees 3x3 outputs of the first; each of those sees "
             "3x3 pixels, shifted by one: together 3 + 3 - 1 pixels on a side.",
        mistakes=((6, "The two windows overlap: 3 + 3 - 1, not 3 + 3."),
                  (9, "Sizes add (minus the overlap), they do not multiply: 3 + 3 - 1."),
                  (3, "The second conv looks at a 3x3 block of the first conv's outputs, which "
                      "together cover more than 3x3 pixels.")),
    ),
    "03.softmax_top": Exercise(
        expected=float(softmax(np.array([2.0, 1.0, 0.1]))[0]),
        hint="exp(2) / (exp(2) + exp(1) + exp(0.1)).",
        mistakes=((2.0 / 3.1, "Softmax divides exponentials, not the raw scores."),),
        tolerance=0.005,
    ),
    # Lesson 04 ---------------------------------------------------------------------------
    "04.max_pool": Exercise(
        expected=max_pool2d(POOL_MAP, 2, 2),
        hint="Cut the 4x4 map into four 2x2 blocks; keep the largest number of each.",
        mistakes=((avg_pool2d(POOL_MAP, 2, 2), "That is average pooling; take the maximum."),
                  (max_pool2d(POOL_MAP, 2, 1), "With stride 2 the windows do not overlap: 2x2 "
                                               "output, not 3x3.")),
    ),
    "04.avg_pool": Exercise(
        expected=avg_pool2d(POOL_MAP, 2, 2),
        hint="Cut the 4x4 map into four 2x2 blocks; average the four numbers of each.",
        mistakes=((max_pool2d(POOL_MAP, 2, 2), "That is max pooling; take the mean."),),
    ),
    "04.pool_parameters": Exercise(
        expected=0,
        hint="What would training change in a max or average? Nothing: a pooling layer has "
             "no weights.",
    ),
    "04.flatten_length": Exercise(
        expected=16 * 5 * 5,
        hint="Flattening keeps every number: channels x height x width.",
        mistakes=((5 * 5, "Flatten all 16 maps, not one."),),
    ),
    "04.dense_parameters": Exercise(
        expected=16 * 5 * 5 * 10 + 10,
        hint="A dense layer has inputs x outputs weights plus one bias per output.",
        mistakes=((16 * 5 * 5 * 10, "Add one bias per class."),),
    ),
    # Lesson 06 ---------------------------------------------------------------------------
    "06.chain_rule": Exercise(
        expected=-18.0,  # x=3, w=2, b=1, y=10: z = a = 7, dL/da = 2(7 - 10) = -6, dL/dw = -6 * 3
        hint="Go backwards one node at a time: dL/da = 2(a - y), the ReLU passes it (z > 0), "
             "and the multiplication w*x sends it to w multiplied by x.",
        mistakes=((18.0, "Check the sign: a - y is negative now that y = 10."),
                  (-6.0, "That is dL/da (or dL/dz). The multiplication node multiplies by x "
                         "on the way to w."),
                  (-9.0, "d/da (a - y)^2 is 2(a - y): you lost the factor 2."),
                  (-12.0, "That is dL/dx (times w); the question asks for dL/dw (times x).")),
    ),
    "06.grad_weight_1d": Exercise(
        expected=np.array([2.0, 4.0]),  # np.correlate([1, 2, 3, 4], [1, 2, -1], "valid")
        hint="dL/dw_i = sum_k grad_out_k * x_{k+i}: slide grad_out along x and take dot products.",
        mistakes=((np.array([4.0, 2.0]), "Right numbers, wrong order: dL/dw_0 pairs grad_out "
                                         "with x starting at x_0."),),
    ),
    "06.grad_x_1d": Exercise(
        expected=np.array([2.0, 3.0, -4.0, 1.0]),  # np.convolve([1, 2, -1], [2, -1], "full")
        hint="x_j was used by every output k with k <= j <= k + 1, multiplied by w_{j-k}: "
             "dL/dx_j = sum_k grad_out_k * w_{j-k}.",
        mistakes=((np.array([-1.0, 0.0, 5.0, -2.0]),
                   "You slid the kernel without flipping it: the full convolution uses the "
                   "kernel reversed."),
                  (np.array([3.0, -4.0]), "Every x_j gets a gradient, including the ends: the "
                                          "full convolution pads grad_out with zeros.")),
    ),
    "06.max_pool_grad": Exercise(
        expected=max_pool2d_backward(POOL_TIES_GRAD, POOL_TIES, 2),
        hint="Each 2x2 window sends its whole grad_out to the position of its maximum; on a "
             "tie, PyTorch picks the first one, reading the window row by row.",
        mistakes=((np.array([[0, 10, 20, 20], [10, 0, 20, 0], [0, 30, 40, 0], [0, 0, 0, 40]],
                            dtype=float),
                   "On a tie only one position gets the gradient (the first, row by row); "
                   "sending it to every maximum counts it twice."),
                  (np.array([[0, 0, 0, 0], [10, 0, 20, 0], [0, 30, 0, 0], [0, 0, 0, 40]],
                            dtype=float),
                   "PyTorch keeps the *first* maximum of a tie (row by row), not the last."),
                  (avg_pool2d_backward(POOL_TIES_GRAD, POOL_TIES, 2),
                   "That is average pooling's gradient; max pooling routes it all to one cell.")),
    ),
    # Lesson 07 ---------------------------------------------------------------------------
    "07.field_size": Exercise(
        expected=receptive_fields([Layer("a", 3), Layer("b", 3), Layer("pool", 2, 2),
                                   Layer("c", 3)])[-1].size,  # 3, 5, 6, then 6 + 2 * 2 = 10
        hint="Go layer by layer: r grows by (k - 1) * j, and after the pool j = 2.",
        mistakes=((8, "After the 2x2 pool neighbouring units are 2 pixels apart (j = 2), so "
                      "the last 3x3 conv adds (3 - 1) * 2 = 4 pixels, not 2."),
                  (7, "A 3x3 conv adds k - 1 = 2 pixels, a 2x2 pool k - 1 = 1 (times the jump): "
                      "3, 5, 6, then + 4."),
                  (12, "The pool adds (2 - 1) * 1 = 1 pixel, not 2: 3, 5, 6, 10.")),
    ),
    "07.dilated_width": Exercise(
        expected=conv_variants.dilate_kernel(np.ones((3, 3)), 3).shape[-1],
        hint="The 3 weights of a row are d = 3 pixels apart: d * (k - 1) + 1.",
        mistakes=((9, "That is k * d; the first weight needs no gap before it: d * (k - 1) + 1."),
                  (3, "Dilation does not add weights, but it spreads them: the span grows.")),
    ),
    "07.separable_parameters": Exercise(
        expected=sum(conv_variants.separable_cost(32, 64, 3, 16, padding=1),
                     conv_variants.ConvCost(0, 0)).parameters,  # 32 * 9 + 32 * 64 = 2336
        hint="Depthwise: one 3x3 filter per input channel. Pointwise: a 1x1 conv from 32 to 64 "
             "channels, 32 weights per output channel.",
        mistakes=((32 * 64 * 9, "That is the standard 3x3 convolution."),
                  (64 * 9 + 32 * 64, "The depthwise step has one filter per *input* channel (32)."),
                  (32 * 9, "Add the pointwise 1x1 layer: 32 x 64 weights."),
                  (32 * 64, "Add the depthwise 3x3 filters: 32 x 9 weights.")),
    ),
    "07.pool_indices": Exercise(
        expected=max_pool2d(POOL_TIES, 2, return_indices=True)[1],
        hint="Each index is row * W + column of the winner in the whole 4x4 map (W = 4), not "
             "its place inside the window; on a tie the first maximum, row by row, wins.",
        mistakes=((np.array([[1, 0], [1, 0]]),
                   "Those are places inside each 2x2 window; PyTorch counts in the whole map: "
                   "row * 4 + column."),
                  (np.array([[4, 8], [6, 10]]),
                   "Rows and columns swapped: the flat index is row * W + column."),
                  (np.array([[4, 6], [9, 15]]),
                   "On a tie the *first* maximum (row by row) wins, as in lesson 06.")),
    ),
}


def _as_array(value) -> np.ndarray | None:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def _same(answer, expected, tolerance: float) -> bool:
    a, e = _as_array(answer), _as_array(expected)
    return a is not None and e is not None and a.shape == e.shape and bool(
        np.all(np.abs(a - e) <= tolerance))


def evaluate(exercise_id: str, answer) -> tuple[bool, str]:
    """``(is_correct, message)`` for ``answer`` to the exercise ``exercise_id``. Pure; see
    :func:`check` for the notebook version that prints."""
    if exercise_id not in EXERCISES:
        raise ValueError(f"self_check: no exercise called {exercise_id!r}; "
                         f"known: {', '.join(EXERCISES)}")
    exercise = EXERCISES[exercise_id]
    if answer is Ellipsis or answer is None:
        return False, "Not answered yet: replace the ... with your answer and run the cell again."
    if _same(answer, exercise.expected, exercise.tolerance):
        return True, "Correct!"
    for wrong, reason in exercise.mistakes:
        if _same(answer, wrong, exercise.tolerance):
            return False, f"Not quite. {reason}"
    got, expected = _as_array(answer), _as_array(exercise.expected)
    if got is None:
        return False, (f"Your answer {answer!r} is not a number or an array of numbers. "
                       f"Hint: {exercise.hint}")
    if got.shape != expected.shape:
        what = "a single number" if expected.ndim == 0 else f"shape {expected.shape}"
        return False, (f"Expected {what}, your answer has shape {got.shape}. "
                       f"Hint: {exercise.hint}")
    if expected.ndim and expected.size > 1:
        wrong_at = np.argwhere(np.abs(got - expected) > exercise.tolerance)
        first = tuple(int(i) for i in wrong_at[0])
        return False, (f"{len(wrong_at)} of {expected.size} values are wrong; the first is at "
                       f"index {first}: you have {got[first]:g}. Hint: {exercise.hint}")
    return False, f"Not quite (you have {answer!r}). Hint: {exercise.hint}"


#: Marks in front of the verdict: a check mark and a ballot X (U+2713, U+2717), which every
#: font the notebooks use has (DejaVu included), where emoji show as empty boxes without an
#: emoji font. The verdict's words ("Correct!", "Not quite") say it without the mark too.
RIGHT_MARK, WRONG_MARK = "\u2713", "\u2717"


def check(exercise_id: str, answer) -> None:
    """Print whether ``answer`` is right and, if not, what is probably wrong."""
    correct, message = evaluate(exercise_id, answer)
    print(f"{RIGHT_MARK if correct else WRONG_MARK} {message}")
