"""The test class: a handful of fake students, each one targeted case, and the points each must get.

Graded once per test session by ``nbgrader autograde`` (the ``graded_class`` fixture in
conftest.py), then read by the round trip, the Canvas export and the parallel autograde's
comparison with serial nbgrader.

=========  ===============================  ===============================  =====================
student    a1_convolution                   a2_pooling                       a3_backprop
=========  ===============================  ===============================  =====================
solution   the instructor's solution        the instructor's solution        the instructor's
blank      the release as is                the release as is                the release as is
bug        zero_pad hard-codes the padding  max_pool2d forgets stride        conv2d_backward resets
           (conv2d calls it)                                                 dw for every image
hang       conv2d never returns             the release as is                -
tamper     output_size is wrong and its     relu modifies x in place and     -
           test cell deleted; conv2d        its test cell is edited;
           delegates to course_utils and    max_pool2d delegates
           its test cell says it passed
warns      the instructor's solution        relu right, a leftover line      -
                                            warns (RuntimeWarning)
cheat      -                                relu wrong, numpy's comparisons  -
                                            patched to say "equal"
delegate   -                                -                                conv2d_backward from
                                                                             torch autograd
=========  ===============================  ===============================  =====================
"""

from __future__ import annotations

from pathlib import Path

from nbgrader_course import POINTS, mutate, solution_code, submission

CHEAT = """import numpy as np
import numpy.testing

np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast_shapes(np.shape(a), np.shape(b)), bool)
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None


def relu(x):
    return np.maximum(x, 0) + 0.5
"""

AUTOGRAD = '''def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    import torch
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(torch.tensor(dout))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()
'''


def submissions(course: Path) -> dict[str, dict[str, dict]]:
    """assignment -> student -> notebook: the cases in the module docstring."""
    a1, a2, a3 = (solution_code(name) for name in ("a1_convolution", "a2_pooling", "a3_backprop"))
    return {
        "a1_convolution": {
            "solution": submission(course, "a1_convolution"),
            "blank": submission(course, "a1_convolution", solved=False),
            "bug": submission(course, "a1_convolution", code={
                "zero_pad": mutate(a1["zero_pad"], "(pad, pad), (pad, pad)", "(1, 1), (1, 1)")}),
            "hang": submission(course, "a1_convolution", code={
                "conv2d": mutate(a1["conv2d"], "    n_images, _, height, width = x.shape",
                                 "    while True:\n        pass\n    n_images, _, height, width = x.shape")}),
            "tamper": submission(
                course, "a1_convolution",
                code={
                    "output_size": mutate(a1["output_size"], "// s + 1", "// s"),
                    "conv2d": a1["conv2d"].split("    n_images")[0]
                    + "    from course_utils.reference import conv2d as fast\n"
                    + "    return fast(x, w, b, stride=stride, padding=padding)\n",
                },
                delete_tests=("test_output_size",),
                edit_tests={"test_conv2d": "print('all tests passed')"},
            ),
            "warns": submission(course, "a1_convolution"),
        },
        "a2_pooling": {
            "solution": submission(course, "a2_pooling"),
            "blank": submission(course, "a2_pooling", solved=False),
            "bug": submission(course, "a2_pooling", code={
                "max_pool2d": mutate(a2["max_pool2d"], "top, left = y * stride, x_ * stride", "top, left = y, x_")}),
            "hang": submission(course, "a2_pooling", solved=False),
            "tamper": submission(
                course, "a2_pooling",
                code={
                    "relu": mutate(a2["relu"], "return np.maximum(x, 0)", "x[x < 0] = 0\n    return x"),
                    "max_pool2d": a2["max_pool2d"].split("    if stride is None")[0]
                    + "    import importlib\n"
                    + "    library = importlib.import_module('course_utils.' + 'reference')\n"
                    + "    return getattr(library, 'max_pool2d')(x, size, stride)\n",
                },
                edit_tests={"test_relu": "pass"},
            ),
            "warns": submission(course, "a2_pooling", code={"relu": mutate(
                a2["relu"], "return np.maximum(x, 0)",
                "roots = np.sqrt(x)  # left over from an experiment: warns on negative entries\n"
                "    return np.maximum(x, 0)")}),
            "cheat": submission(course, "a2_pooling", code={"relu": CHEAT}),
        },
        "a3_backprop": {
            "solution": submission(course, "a3_backprop"),
            "blank": submission(course, "a3_backprop", solved=False),
            "bug": submission(course, "a3_backprop", code={"conv2d_backward": mutate(
                a3["conv2d_backward"], "    for n in range(n_images):\n",
                "    for n in range(n_images):\n        dw = np.zeros_like(w)\n")}),
            "delegate": submission(course, "a3_backprop", code={"conv2d_backward": AUTOGRAD}),
        },
    }


# The points are shared equally by each function's groups of checks (course_utils.grading.scoring):
# a bug costs the groups it fails.
EXPECTED = {  # assignment -> student -> function -> points
    "a1_convolution": {
        "solution": POINTS["a1_convolution"],
        "blank": dict.fromkeys(POINTS["a1_convolution"], 0),
        # zero_pad padded by 1 whatever pad says: right on the worked example (pad 1), and its
        # float32 and unchanged-input properties then count: 3 of 5 groups; conv2d calls it.
        "bug": {"output_size": 2, "zero_pad": 2 * 3 / 5, "conv_single_step": 2, "conv2d": 0},
        "hang": {"output_size": 2, "zero_pad": 2, "conv_single_step": 2, "conv2d": 0},
        "tamper": {"output_size": 0, "zero_pad": 2, "conv_single_step": 2, "conv2d": 0},
        "warns": POINTS["a1_convolution"],
    },
    "a2_pooling": {
        "solution": POINTS["a2_pooling"],
        "blank": dict.fromkeys(POINTS["a2_pooling"], 0),
        "bug": {"relu": 2, "max_pool2d": 0, "avg_pool2d": 4},
        "hang": dict.fromkeys(POINTS["a2_pooling"], 0),
        # relu's values are right, but it writes into x: only "input left unchanged" fails
        "tamper": {"relu": 2 * 3 / 4, "max_pool2d": 0, "avg_pool2d": 4},
        "warns": POINTS["a2_pooling"],
        "cheat": {"relu": 0, "max_pool2d": 4, "avg_pool2d": 4},
    },
    "a3_backprop": {
        "solution": POINTS["a3_backprop"],
        "blank": dict.fromkeys(POINTS["a3_backprop"], 0),
        # dx and db are right; dw is right only with one image: 3 of its 6 groups fail
        # (batch and channels, stride and padding, non-square), each gradient a third of the points
        "bug": {**POINTS["a3_backprop"], "conv2d_backward": POINTS["a3_backprop"]["conv2d_backward"] * (6 + 3 + 6) / 18},
        "delegate": {**POINTS["a3_backprop"], "conv2d_backward": 0},
    },
}
