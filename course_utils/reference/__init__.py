"""Reference implementations in numpy, with exactly the semantics of ``torch.nn.functional``.

NCHW layout, cross-correlation, floor output sizes. Lessons call these; assignment tests
compare students' functions against them; ``tests/`` compares them against PyTorch.

================  ====================================================  ===========
function          what                                                  lesson
================  ====================================================  ===========
output_size       ``floor((n + 2p - d(k-1) - 1) / s) + 1``              02
pad               zero-pad the last two axes                            02
conv2d            vectorized cross-correlation (im2col + one matmul)    01
conv2d_naive      the same as readable loops                            01
relu, softmax     activations (also leaky_relu, sigmoid, tanh, activation)  03
max_pool2d        max over each window                                  04
avg_pool2d        mean over each window (padded zeros count)            04
conv2d_backward   gradients of conv2d (x, weight, bias)                 06
relu_backward     ReLU gates the gradient                               06
max_pool2d_backward  max pooling routes it to the winner (PyTorch ties) 06
avg_pool2d_backward  average pooling spreads it evenly              06
================  ====================================================  ===========
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
from course_utils.reference.pooling import avg_pool2d, max_pool2d
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
    "output_size",
    "pad",
    "relu",
    "relu_backward",
    "sigmoid",
    "softmax",
    "tanh",
]
