"""Redraw time of every explorer after a control change (target: under 100 ms).

Setting ``control.value`` runs the observer synchronously: the check of dependent controls, the
pure drawing function and the assignment of the new HTML to the view. That is the kernel-side
time of a student moving a slider (the browser then only swaps the HTML).

Baseline, side by side: the same conv-explorer view drawn the other obvious way, as a matplotlib
figure (input, kernel and output grids with numbers) rendered to PNG, which is what an explorer
built on ``ipywidgets.Output`` + ``plt.show()`` would pay on every change.

    .venv/bin/python benchmarks/bench_widgets.py
"""

from __future__ import annotations

import io
import os
import statistics
import time

os.environ.setdefault("MPLBACKEND", "Agg")

from course_utils import images, kernels, plotting  # noqa: E402
from machine import describe  # noqa: E402  (benchmarks/machine.py)
from course_utils.widgets import (  # noqa: E402
    conv_explorer,
    conv_window,
    feature_map_explorer,
    pooling_explorer,
    relu_explorer,
    shape_explorer,
)

REPEATS = 30
TARGET_MS = 100.0

# (explorer, control, values it cycles through)
CASES = [
    (conv_explorer, "position", [1, 2, 3, 4, 5, 6, 7, 8, 0]),
    (conv_explorer, "stride", [2, 3, 1]),
    (conv_explorer, "input", ["6x6 edge image", "photo crop 8x8", "5x5 example"]),
    (shape_explorer, "s", [2, 3, 4, 1]),
    (relu_explorer, "activation_name", ["leaky ReLU", "sigmoid", "tanh", "ReLU"]),
    (relu_explorer, "kernel", ["sobel_y", "laplacian", "sobel_x"]),
    (pooling_explorer, "position", [1, 2, 3, 0]),
    (pooling_explorer, "mode", ["average", "max"]),
    (feature_map_explorer, "apply_relu", [True, False]),
    (feature_map_explorer, "pooling", ["max 2x2", "average 2x2", "none"]),
]


def time_control(make, control: str, values) -> list[float]:
    explorer = make()
    for value in values:  # warm caches (photo, feature maps) once, as the notebook's first view does
        explorer.controls[control].value = value
    timings = []
    for index in range(REPEATS):
        value = values[index % len(values)]
        if explorer.controls[control].value == value:
            continue
        start = time.perf_counter()
        explorer.controls[control].value = value
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def matplotlib_conv_view(position: int) -> bytes:
    image, kernel = images.binary_image_5x5(), kernels.kernel("x_pattern")
    state = conv_window(image, kernel, position=position)
    figure = plotting.show_grids([state.padded, kernel, state.output],
                                 ["input", "kernel", "output"],
                                 highlights=[state.box, None, (state.row, state.col, 1, 1)])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def main() -> None:
    print(f"machine: {describe()}; {REPEATS} control changes per row\n")
    print(f"{'explorer':24s} {'control':16s} {'median ms':>10s} {'max ms':>8s}  target")
    worst = 0.0
    for make, control, values in CASES:
        timings = time_control(make, control, values)
        median, high = statistics.median(timings), max(timings)
        worst = max(worst, median)
        verdict = "ok" if median < TARGET_MS else "SLOW"
        print(f"{make.__name__:24s} {control:16s} {median:10.1f} {high:8.1f}  {verdict}")

    html_times, figure_times = [], []
    explorer = conv_explorer()
    for index in range(12):
        start = time.perf_counter()
        explorer.controls["position"].value = (index + 1) % 9
        html_times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        matplotlib_conv_view((index + 1) % 9)
        figure_times.append((time.perf_counter() - start) * 1000)
    html_ms, figure_ms = statistics.median(html_times), statistics.median(figure_times)
    print(f"\nconv view, one position change: HTML explorer {html_ms:.1f} ms, matplotlib figure -> "
          f"PNG {figure_ms:.1f} ms; the HTML view is {figure_ms / html_ms:.0f}x faster")
    print(f"slowest median redraw: {worst:.1f} ms (target {TARGET_MS:.0f} ms)")
    if worst >= TARGET_MS:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
