"""Interactive explorers for the lessons (ipywidgets 8).

Each explorer is a pure drawing function (state in, HTML out; tested directly) plus a thin
:class:`~course_utils.widgets.base.Explorer` that wires controls to it. The returned object is
an ``ipywidgets.VBox``: show it as a cell's last value; ``.controls`` holds its widgets by
name, ``.view.value`` the HTML it shows, ``.state()`` the drawing function's input.

============================  ====================================================  ======
explorer                      what the student moves                                 lesson
============================  ====================================================  ======
conv_explorer()               input, kernel (named, or typed + Enter/apply),       01
                              stride, padding, window position
shape_explorer()              n, f, p, s -> output size, formula, windows           02
relu_explorer()               kernel, activation, leaky slope                        03
pooling_explorer()            map, max/average, size, stride, window position       04
feature_map_explorer()        a bank of kernels on the photo, ReLU, pooling         01, 04
gradient_explorer()           output cell, stride, padding, dilation -> the input    06
                              pixels and weights its gradient reaches
receptive_field_explorer()    layer and unit of a network -> its receptive field     07
                              on the photo, paths from each pixel
============================  ====================================================  ======
"""

from course_utils.widgets.base import Explorer, shape_warning
from course_utils.widgets.conv import (
    conv_explorer,
    conv_window,
    draw_conv,
    kernel_as_text,
    parse_kernel,
    size_formula,
    window_arithmetic,
)
from course_utils.widgets.gradient import draw_gradient, gradient_explorer, gradient_footprint
from course_utils.widgets.feature_maps import draw_feature_maps, feature_map_explorer, feature_maps
from course_utils.widgets.pooling import (
    draw_pooling,
    example_feature_map,
    pool_arithmetic,
    pool_window,
    pooling_explorer,
)
from course_utils.widgets.receptive_field import draw_receptive_field, receptive_field_explorer
from course_utils.widgets.relu import draw_relu, relu_explorer
from course_utils.widgets.shape import draw_shape, shape_explorer

__all__ = [
    "Explorer",
    "conv_explorer",
    "conv_window",
    "draw_conv",
    "draw_feature_maps",
    "draw_gradient",
    "draw_pooling",
    "draw_receptive_field",
    "draw_relu",
    "draw_shape",
    "example_feature_map",
    "feature_map_explorer",
    "feature_maps",
    "gradient_explorer",
    "gradient_footprint",
    "kernel_as_text",
    "parse_kernel",
    "pool_arithmetic",
    "pool_window",
    "pooling_explorer",
    "receptive_field_explorer",
    "relu_explorer",
    "shape_explorer",
    "shape_warning",
    "size_formula",
    "window_arithmetic",
]
