"""course_utils: the code behind the CNN course.

One module per idea (see README, "Layout"):

- ``reference``  numpy conv / pool / activations with PyTorch's exact semantics
- ``kernels``    named 2-D kernels (blur, sharpen, edges, Sobel, Scharr, ...)
- ``images``     the lessons' worked examples and a real photo
"""

__version__ = "0.1.0"
