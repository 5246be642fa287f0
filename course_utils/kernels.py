"""Named 2-D kernels (filters) used in lesson 01 and the explorers.

``kernel(name)`` returns a fresh float64 array you may modify; ``KERNEL_NAMES`` lists the names.
Each is a cross-correlation kernel: apply it with ``reference.conv2d(image, kernel(name))``.

Edge kernels respond where brightness changes *across* their direction: ``vertical_edge``,
``sobel_x`` and ``scharr_x`` respond to vertical edges (a change from left to right);
``horizontal_edge``, ``sobel_y`` and ``scharr_y`` to horizontal ones (top to bottom).
"""

from __future__ import annotations

import numpy as np

_KERNELS: dict[str, list[list[float]]] = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box_blur": [[1 / 9] * 3] * 3,
    "gaussian_blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    # The vertical-edge detector of the source texts (Andrew Ng's example): bright left, dark right.
    "vertical_edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "horizontal_edge": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "scharr_x": [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]],
    "scharr_y": [[-3, -10, -3], [0, 0, 0], [3, 10, 3]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    # The worked example's kernel (an "X" pattern), see images.binary_image_5x5.
    "x_pattern": [[1, 0, 1], [0, 1, 0], [1, 0, 1]],
}

KERNEL_NAMES: tuple[str, ...] = tuple(_KERNELS)


def kernel(name: str) -> np.ndarray:
    """The named 3x3 kernel as a new float64 array. Names: see ``KERNEL_NAMES``."""
    if name not in _KERNELS:
        raise ValueError(f"kernel: unknown name {name!r}; choose one of {', '.join(KERNEL_NAMES)}")
    return np.array(_KERNELS[name], dtype=np.float64)


def all_kernels() -> dict[str, np.ndarray]:
    """Every named kernel, as ``{name: array}`` (fresh copies)."""
    return {name: kernel(name) for name in KERNEL_NAMES}
