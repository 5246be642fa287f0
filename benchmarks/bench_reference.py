"""Time course_utils.reference against torch.nn.functional, side by side, in one run.

    .venv/bin/python benchmarks/bench_reference.py [--threads N] [--repeats R]

Both libraries use the same number of threads (numpy's BLAS through threadpoolctl-free
environment variables set before import, torch through torch.set_num_threads). Prints ms,
GFLOP/s, the ratio to torch (ours / torch: below 1 means faster than torch) and the fraction of
the machine's float32 matrix-product rate each convolution reaches.
Targets (issue 2): conv2d within 2x of torch on the 32->64 layer; max_pool2d within 1.5x.
"""

from __future__ import annotations

import argparse
import os
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=7)
    return parser.parse_args()


ARGS = parse_args()
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread settings)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from course_utils import reference  # noqa: E402
from machine import cpu_name  # noqa: E402  (benchmarks/machine.py)

torch.set_num_threads(ARGS.threads)


def best_ms(function, repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def matmul_gflops(repeats: int) -> float:
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    return 2 * 2048**3 / best_ms(lambda: a @ a, repeats) / 1e6


def main() -> None:
    rng = np.random.default_rng(0)
    peak = matmul_gflops(ARGS.repeats)
    rows = []
    for label, x_shape, w_shape in [
        ("conv2d 3x3 pad 1, (64,32,32,32) -> 64 filters", (64, 32, 32, 32), (64, 32, 3, 3)),
        ("conv2d 3x3 pad 1, (64,3,32,32) -> 32 filters", (64, 3, 32, 32), (32, 3, 3, 3)),
    ]:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = rng.standard_normal(w_shape, dtype=np.float32)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        with torch.no_grad():
            np.testing.assert_allclose(reference.conv2d(x, w, padding=1),
                                       F.conv2d(xt, wt, padding=1).numpy(), rtol=1e-3, atol=1e-3)
            ours = best_ms(lambda: reference.conv2d(x, w, padding=1), ARGS.repeats)
            theirs = best_ms(lambda: F.conv2d(xt, wt, padding=1), ARGS.repeats)
        n, _, h, width = x_shape
        flops = 2 * n * h * width * w_shape[0] * w_shape[1] * w_shape[2] * w_shape[3]
        rows.append((label, ours, theirs, flops))
    x = rng.standard_normal((64, 64, 32, 32), dtype=np.float32)
    xt = torch.from_numpy(x)
    np.testing.assert_array_equal(reference.max_pool2d(x, 2), F.max_pool2d(xt, 2).numpy())
    rows.append(("max_pool2d 2x2, (64,64,32,32)",
                 best_ms(lambda: reference.max_pool2d(x, 2), ARGS.repeats),
                 best_ms(lambda: F.max_pool2d(xt, 2), ARGS.repeats), None))

    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, "
          f"{ARGS.threads} threads for both; numpy {np.__version__}, torch {torch.__version__}; "
          f"float32; best of {ARGS.repeats}")
    print(f"float32 matrix product (2048^3, numpy): {peak:.0f} GFLOP/s\n")
    print(f"| {'operation':<48} | {'reference ms':>12} | {'torch ms':>8} | {'ratio':>5} "
          f"| {'ref GFLOP/s':>11} | {'of matmul':>9} |")
    print(f"|{'-' * 50}|{'-' * 14}|{'-' * 10}|{'-' * 7}|{'-' * 13}|{'-' * 11}|")
    for label, ours, theirs, flops in rows:
        gflops = f"{flops / ours / 1e6:.1f}" if flops else "-"
        fraction = f"{flops / ours / 1e6 / peak:.0%}" if flops else "-"
        print(f"| {label:<48} | {ours:>12.2f} | {theirs:>8.2f} | {ours / theirs:>5.2f} "
              f"| {gflops:>11} | {fraction:>9} |")
    conv_ratio, pool_ratio = rows[0][1] / rows[0][2], rows[2][1] / rows[2][2]
    print(f"\ntargets: conv2d 32->64 within 2x of torch: {conv_ratio:.2f}x "
          f"({'met' if conv_ratio <= 2 else 'MISSED'}); max_pool2d within 1.5x: {pool_ratio:.2f}x "
          f"({'met' if pool_ratio <= 1.5 else 'MISSED'})")


if __name__ == "__main__":
    main()
