"""Images for the lessons: the source texts' worked examples and a real photo.

The photo is the portrait of Grace Hopper that ships inside matplotlib
(``matplotlib.cbook.get_sample_data('grace_hopper.jpg')``), so nothing is downloaded.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Rows 400-407, columns 200-207 of the photo (top, left, height, width): the dark jacket on the
#: left, the white collar on the right -- a real vertical edge for the edge kernels to find.
PHOTO_CROP = (400, 200, 8, 8)
#: The photo at a quarter of its 600x512 pixels (height, width): the explorers' working size.
SMALL_PHOTO_SIZE = (150, 128)


def binary_image_5x5() -> np.ndarray:
    """The 5x5 binary image of the classic worked example, shape (5, 5), float64.

    Convolved (cross-correlated) with ``kernels.kernel('x_pattern')`` =
    ``[[1,0,1],[0,1,0],[1,0,1]]`` it gives ``WORKED_EXAMPLE_OUTPUT``; the top-left value is
    1*1 + 1*0 + 1*1 + 0*0 + 1*1 + 1*0 + 0*1 + 0*0 + 1*1 = 4.
    """
    return np.array(
        [
            [1, 1, 1, 0, 0],
            [0, 1, 1, 1, 0],
            [0, 0, 1, 1, 1],
            [0, 0, 1, 1, 0],
            [0, 1, 1, 0, 0],
        ],
        dtype=np.float64,
    )


#: ``conv2d(binary_image_5x5(), kernel('x_pattern'))``, the valid 3x3 feature map.
WORKED_EXAMPLE_OUTPUT = np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]], dtype=np.float64)


def edge_image_6x6() -> np.ndarray:
    """6x6 image, left half 10 (bright), right half 0 (dark): one vertical edge in the middle.

    With ``kernels.kernel('vertical_edge')`` the 4x4 output is ``[[0, 30, 30, 0]] * 4``: the
    edge shows up as a bright band two columns wide.
    """
    image = np.zeros((6, 6), dtype=np.float64)
    image[:, :3] = 10.0
    return image


#: ``conv2d(edge_image_6x6(), kernel('vertical_edge'))``.
EDGE_EXAMPLE_OUTPUT = np.array([[0, 30, 30, 0]] * 4, dtype=np.float64)


def photo(gray: bool = True, size: int | tuple[int, int] | None = None,
          crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """A real photograph (Grace Hopper, from matplotlib's sample data) as floats in [0, 1].

    Returns ``(H, W)`` when ``gray`` (luminance 0.299 R + 0.587 G + 0.114 B), else ``(H, W, 3)``
    (use ``.transpose(2, 0, 1)`` for the ``(C, H, W)`` layout the reference ops take).

    ``crop=(top, left, height, width)`` cuts a box out first (in the original 600x512 pixels);
    ``size`` then resizes to ``size x size`` or ``(height, width)`` (area averaging).
    """
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        image = Image.open(handle)
        image.load()
    if crop is not None:
        top, left, height, width = crop
        if min(height, width) < 1 or top < 0 or left < 0 or top + height > image.height \
                or left + width > image.width:
            raise ValueError(
                f"photo: crop {crop} (top, left, height, width) must lie inside the "
                f"{image.height}x{image.width} photo"
            )
        image = image.crop((left, top, left + width, top + height))
    if size is not None:
        height, width = (size, size) if isinstance(size, int) else size
        if min(height, width) < 1:
            raise ValueError(f"photo: size must be at least 1 pixel, got {size!r}")
        image = image.resize((width, height), Image.Resampling.BOX)
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    if gray:
        return rgb @ np.array([0.299, 0.587, 0.114])
    return rgb


@lru_cache(maxsize=1)
def photo_crop() -> np.ndarray:
    """The 8x8 box ``PHOTO_CROP`` of the grey photo as pixel values 0-255 (read-only, cached)."""
    crop = np.round(photo(crop=PHOTO_CROP) * 255)
    crop.setflags(write=False)
    return crop


@lru_cache(maxsize=1)
def small_photo() -> np.ndarray:
    """The grey photo at ``SMALL_PHOTO_SIZE`` (150x128) pixels, values in [0, 1] (read-only, cached)."""
    image = photo(size=SMALL_PHOTO_SIZE)
    image.setflags(write=False)
    return image
