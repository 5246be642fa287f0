"""Random inputs for the case lists: the same numbers for the same generator, every time."""

from __future__ import annotations

import numpy as np


def normal_array(rng: np.random.Generator, shape, dtype=np.float64) -> np.ndarray:
    """Standard normal values of ``shape``, cast to ``dtype``."""
    return rng.standard_normal(shape).astype(dtype)


def small_integers(rng: np.random.Generator, shape, dtype=np.float64, high: int = 3) -> np.ndarray:
    """Values 0, 1, ..., high - 1 as ``dtype``: windows with tied maxima in almost every case."""
    return rng.integers(0, high, size=shape).astype(dtype)
