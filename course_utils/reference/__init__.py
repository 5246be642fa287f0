"""Reference implementations in numpy, with exactly the semantics of ``torch.nn.functional``.

NCHW layout, cross-correlation, floor output sizes (pooling rounds up with ``ceil_mode=True``).
Lessons call these; assignment tests compare students' functions against them; ``tests/``
compares them against PyTorch (``tests/lessons/test_reference_opinfo.py``: with PyTorch's own test inputs).

===================  ====================================================  ======
function             what                                                  lesson
===================  ====================================================  ======
output_size          ``floor((n + 2p - d(k-1) - 1) / s) + 1`` (or ceil)    02
pad                  zero-pad the last two axes                            02
conv2d               vectorized cross-correlation (im2col + one matmul),   01
                     ``groups`` split the channels
conv2d_naive         the same as readable loops                            01
relu, softmax        activations (also leaky_relu, sigmoid, tanh,           03
                     activation)
max_pool2d           max over each window; ``ceil_mode``,                  04
                     ``return_indices`` (where each max came from)
max_unpool2d         puts the maxima back where the indices say            04
avg_pool2d           mean over each window (padded zeros count);           04
                     ``ceil_mode``, ``count_include_pad``,
                     ``divisor_override``
conv2d_backward      gradients of conv2d (x, weight, bias)                 06
relu_backward        ReLU gates the gradient                               06
max_pool2d_backward  max pooling routes it to the winner (PyTorch ties)    06
avg_pool2d_backward  average pooling spreads it evenly                     06
===================  ====================================================  ======
"""

from course_utils.reference.activations import (
    ACTIVATION_NAMES,
    activation,
    leaky_relu,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from course_utils.reference.backward import (
    avg_pool2d_backward,
    conv2d_backward,
    max_pool2d_backward,
    relu_backward,
)
from course_utils.reference.convolution import conv2d, conv2d_naive
from course_utils.reference.pooling import avg_pool2d, max_pool2d, max_unpool2d
from course_utils.reference.shapes import output_size, pad

__all__ = [
    "ACTIVATION_NAMES",
    "activation",
    "avg_pool2d",
    "avg_pool2d_backward",
    "conv2d",
    "conv2d_backward",
    "conv2d_naive",
    "leaky_relu",
    "max_pool2d",
    "max_pool2d_backward",
    "max_unpool2d",
    "output_size",
    "pad",
    "relu",
    "relu_backward",
    "sigmoid",
    "softmax",
    "tanh",
]
