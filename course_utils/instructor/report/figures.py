"""The report's pictures: pure functions, numbers in, a PNG (bytes) and its text alternative out."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from course_utils.instructor.report.statistics import GroupFailure  # noqa: E402


def score_bins(scores: list[float], max_score: float) -> list[tuple[float, float, int]]:
    """(low, high, students) for ten equal bins from 0 to ``max_score`` (the last one closed)."""
    top = max_score if max_score > 0 else max(scores + [1.0])
    edges = np.linspace(0, top, 11)
    counts, _ = np.histogram(np.clip(scores, 0, top), bins=edges)
    return [(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(10)]


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def score_histogram(scores: list[float], max_score: float) -> tuple[bytes, str]:
    """The distribution of scores out of ``max_score``, and a sentence that says what it shows."""
    bins = score_bins(scores, max_score)
    figure, axes = plt.subplots(figsize=(6.4, 3.2))
    axes.bar([low for low, _, _ in bins], [count for _, _, count in bins],
             width=[high - low for low, high, _ in bins], align="edge", color="#1f5f99", edgecolor="white")
    axes.set_xlabel(f"score (out of {max_score:g})")
    axes.set_ylabel("students")
    axes.set_xlim(0, bins[-1][1])
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(f"Scores of {len(scores)} graded submissions")
    mean = float(np.mean(scores)) if scores else 0.0
    busiest = max(bins, key=lambda b: b[2])
    alt = (f"Histogram of {len(scores)} scores out of {max_score:g}: mean {mean:.1f}, median "
           f"{float(np.median(scores)) if scores else 0:.1f}; the most students ({busiest[2]}) scored "
           f"{busiest[0]:g} to {busiest[1]:g}. The table below gives every bin.")
    return _png(figure), alt


def group_failure_chart(groups: list[GroupFailure], top: int = 12) -> tuple[bytes, str]:
    """The ``top`` groups of checks most students failed, as horizontal bars of the share."""
    worst = sorted((g for g in groups if g.failed), key=lambda g: (-g.share, g.function, g.label))[:top]
    figure, axes = plt.subplots(figsize=(6.4, 0.45 * max(len(worst), 1) + 1.0))
    labels = [f"{g.function}: {g.label}" for g in worst]
    axes.barh(range(len(worst)), [100 * g.share for g in worst], color="#a33b20")
    axes.set_yticks(range(len(worst)), labels)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("students who failed it (%)")
    axes.set_title("Groups of checks the class failed most")
    if worst:
        alt = ("Bar chart of the groups of checks most students failed: " + "; ".join(
            f"{g.function} {g.label} {100 * g.share:.0f}%" for g in worst[:5]) + ". The table below lists every group.")
    else:
        alt = "Bar chart with no bars: every student passed every group of checks."
    return _png(figure), alt
