"""Twenty honest a1_convolution solutions, each written its own way, and one planted copy.

Each solution is what a student types into the four solution cells under the template's
signature and docstring: ``output_size``, ``zero_pad``, ``conv_single_step`` and ``conv2d``
(the body, and for ``conv2d`` any helper functions the student wrote above it). The styles are
those real classes hand in: plain loops in several orders, a loop over the kernel's offsets,
im2col, numpy's stride tricks (``as_strided``, ``sliding_window_view``), ``einsum`` and
``tensordot``. Every one is right (``test_report_similarity.py`` checks them against the
reference), and none is a copy of another: the similarity check must flag none of them.

:func:`planted_copy` is solution 3 handed in again by another student who renamed every
variable, reordered its helper functions and rewrote the comments.
"""

from __future__ import annotations

import re

FUNCTIONS = ("output_size", "zero_pad", "conv_single_step", "conv2d")

# output_size(n, f, p=0, s=1) bodies
OUTPUT_SIZE = [
    "return (n + 2 * p - f) // s + 1",
    "return int((n - f + 2 * p) / s) + 1",
    "return 1 + (n + 2 * p - f) // s",
    "padded = n + 2 * p\n    return (padded - f) // s + 1",
    "import math\n    return math.floor((n + 2 * p - f) / s) + 1",
    "count = 0\n    start = 0\n    while start + f <= n + 2 * p:\n        count += 1\n        start += s\n    return count",
    "span = n + p + p - f\n    steps = span // s\n    return steps + 1",
    "return len(range(0, n + 2 * p - f + 1, s))",
]

# zero_pad(x, pad) bodies
ZERO_PAD = [
    'return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")',
    "return np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])",
    "n, c, h, w = x.shape\n    out = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype)\n"
    "    out[:, :, pad:pad + h, pad:pad + w] = x\n    return out",
    "widths = [(0, 0)] * 2 + [(pad, pad)] * 2\n    return np.pad(x, widths, constant_values=0)",
    "shape = list(x.shape)\n    shape[2] += 2 * pad\n    shape[3] += 2 * pad\n    result = np.zeros(shape, x.dtype)\n"
    "    result[..., pad:shape[2] - pad, pad:shape[3] - pad] = x\n    return result",
    "if pad == 0:\n        return x.copy()\n    return np.pad(x, ((0, 0), (0, 0), (pad,) * 2, (pad,) * 2))",
    "big = np.zeros_like(x, shape=(x.shape[0], x.shape[1], x.shape[2] + 2 * pad, x.shape[3] + 2 * pad))\n"
    "    big[:, :, pad:big.shape[2] - pad, pad:big.shape[3] - pad] = x\n    return big",
]

# conv_single_step(window, kernel, bias=0.0) bodies
SINGLE_STEP = [
    "return float(np.sum(window * kernel) + bias)",
    "return float((window * kernel).sum() + bias)",
    "s = np.multiply(window, kernel)\n    return float(s.sum()) + float(bias)",
    "return float(np.vdot(window, kernel)) + float(bias)",
    "return float(np.tensordot(window, kernel, axes=window.ndim) + bias)",
    "total = 0.0\n    for a, b in zip(window.ravel(), kernel.ravel()):\n        total += a * b\n    return float(total + bias)",
    "return float(np.einsum('i,i->', window.ravel(), kernel.ravel())) + bias",
    "return float(window.ravel() @ kernel.ravel() + bias)",
]

# conv2d(x, w, b, stride=1, padding=0): (helpers above the def, body)
CONV2D = [
    # 0: loops over images and output rows, a filter bank per window, bias added once
    ("", """padded = zero_pad(x, padding)
    n_filters, _, fh, fw = w.shape
    rows = (x.shape[2] + 2 * padding - fh) // stride + 1
    cols = (x.shape[3] + 2 * padding - fw) // stride + 1
    maps = []
    for image in padded:
        fmap = np.zeros((n_filters, rows, cols))
        for r in range(rows):
            for c in range(cols):
                piece = image[:, r * stride:r * stride + fh, c * stride:c * stride + fw]
                fmap[:, r, c] = [np.sum(piece * kernel) for kernel in w]
        maps.append(fmap + b.reshape(-1, 1, 1))
    return np.stack(maps).astype(x.dtype)"""),
    # 1: loops over output positions, all images and filters at once with tensordot
    ("", """kh, kw = w.shape[2:]
    xp = zero_pad(x, padding)
    rows = output_size(x.shape[2], kh, padding, stride)
    cols = output_size(x.shape[3], kw, padding, stride)
    result = np.empty((x.shape[0], w.shape[0], rows, cols), dtype=x.dtype)
    for row in range(rows):
        for col in range(cols):
            patch = xp[:, :, row * stride:row * stride + kh, col * stride:col * stride + kw]
            result[:, :, row, col] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return result"""),
    # 2: loop over kernel offsets, accumulate shifted slices
    ("", """n_img, chans, height, width = x.shape
    n_f, _, k_h, k_w = w.shape
    oh = (height + 2 * padding - k_h) // stride + 1
    ow = (width + 2 * padding - k_w) // stride + 1
    padded = zero_pad(x, padding)
    acc = np.zeros((n_img, n_f, oh, ow), dtype=x.dtype)
    for dy in range(k_h):
        for dx in range(k_w):
            shifted = padded[:, :, dy:dy + stride * oh:stride, dx:dx + stride * ow:stride]
            acc += np.einsum('nchw,fc->nfhw', shifted, w[:, :, dy, dx])
    acc += b.reshape(1, -1, 1, 1)
    return acc"""),
    # 3: im2col with helpers
    ('''def windows_to_columns(xp, kh, kw, stride, oh, ow):
    """Every window of xp as one column: (C * kh * kw, N * oh * ow)."""
    n, c = xp.shape[:2]
    cols = np.empty((c * kh * kw, n * oh * ow), dtype=xp.dtype)
    k = 0
    for ci in range(c):
        for a in range(kh):
            for bb in range(kw):
                # one row per kernel entry: that entry's pixel in every window
                sl = xp[:, ci, a:a + stride * oh:stride, bb:bb + stride * ow:stride]
                cols[k] = sl.reshape(-1)
                k += 1
    return cols


def columns_to_output(product, n, oh, ow):
    """(F, N * oh * ow) -> (N, F, oh, ow)."""
    f = product.shape[0]
    return product.reshape(f, n, oh, ow).transpose(1, 0, 2, 3)


''', """n, c, h, width = x.shape
    f, _, kh, kw = w.shape
    oh = output_size(h, kh, padding, stride)
    ow = output_size(width, kw, padding, stride)
    # gather the windows, multiply by the filters in one matrix product
    cols = windows_to_columns(zero_pad(x, padding), kh, kw, stride, oh, ow)
    product = w.reshape(f, -1) @ cols + b[:, None]
    return columns_to_output(product, n, oh, ow).astype(x.dtype)"""),
    # 4: as_strided + einsum
    ("", """N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = zero_pad(x, padding)
    Hout = (H + 2 * padding - KH) // stride + 1
    Wout = (W + 2 * padding - KW) // stride + 1
    sN, sC, sH, sW = xp.strides
    view = np.lib.stride_tricks.as_strided(
        xp, shape=(N, C, Hout, Wout, KH, KW), strides=(sN, sC, sH * stride, sW * stride, sH, sW))
    return (np.einsum('nchwij,fcij->nfhw', view, w) + b[None, :, None, None]).astype(x.dtype)"""),
    # 5: sliding_window_view + tensordot
    ("from numpy.lib.stride_tricks import sliding_window_view\n\n\n", """kernel_h, kernel_w = w.shape[-2:]
    padded = zero_pad(x, padding)
    win = sliding_window_view(padded, (kernel_h, kernel_w), axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, Ho, Wo, F)
    out = out + b
    return np.moveaxis(out, -1, 1).astype(x.dtype)"""),
    # 6: loops over images and filters, windows summed with np.sum over axes
    ("", """imgs, _, hgt, wid = x.shape
    nfil, _, fh, fw = w.shape
    ph, pw = output_size(hgt, fh, padding, stride), output_size(wid, fw, padding, stride)
    src = zero_pad(x, padding)
    y = np.zeros((imgs, nfil, ph, pw), x.dtype)
    for m in range(imgs):
        for k in range(nfil):
            for u in range(ph):
                top = u * stride
                for v in range(pw):
                    left = v * stride
                    y[m, k, u, v] = np.sum(src[m, :, top:top + fh, left:left + fw] * w[k]) + b[k]
    return y"""),
    # 7: list comprehension of windows, then einsum
    ("", """fh, fw = w.shape[2], w.shape[3]
    pad_x = zero_pad(x, padding)
    nh = output_size(x.shape[2], fh, padding, stride)
    nw = output_size(x.shape[3], fw, padding, stride)
    patches = np.array([[pad_x[:, :, i * stride:i * stride + fh, j * stride:j * stride + fw]
                         for j in range(nw)] for i in range(nh)])  # (nh, nw, N, C, fh, fw)
    res = np.einsum('ijncab,fcab->nfij', patches, w)
    return (res + b[:, None, None]).astype(x.dtype)"""),
    # 8: per-filter loop, im2col built with a reshape of the sliding view
    ("", """from numpy.lib.stride_tricks import sliding_window_view as windows
    num, ch, _, _ = x.shape
    nf, _, a, bw = w.shape
    v = windows(zero_pad(x, padding), (a, bw), axis=(-2, -1))[:, :, ::stride, ::stride]
    oh, ow = v.shape[2], v.shape[3]
    cols = v.transpose(0, 2, 3, 1, 4, 5).reshape(num * oh * ow, ch * a * bw)
    outputs = []
    for fi in range(nf):
        outputs.append(cols @ w[fi].ravel() + b[fi])
    return np.stack(outputs, axis=1).reshape(num, oh, ow, nf).transpose(0, 3, 1, 2).astype(x.dtype)"""),
    # 9: loops with explicit channel loop and scalar accumulation into conv_single_step per channel
    ("", """n_batch, n_ch, in_h, in_w = x.shape
    n_out, _, k1, k2 = w.shape
    hh = output_size(in_h, k1, padding, stride)
    ww = output_size(in_w, k2, padding, stride)
    big = zero_pad(x, padding)
    z = np.zeros((n_batch, n_out, hh, ww))
    for img in range(n_batch):
        for o in range(n_out):
            for r in range(hh):
                for q in range(ww):
                    s = b[o]
                    for ch in range(n_ch):
                        s += conv_single_step(big[img, ch, r * stride:r * stride + k1, q * stride:q * stride + k2],
                                              w[o, ch], 0.0)
                    z[img, o, r, q] = s
    return z.astype(x.dtype)"""),
    # 10: while loops
    ("", """N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    p = zero_pad(x, padding)
    out_rows, out_cols = [], []
    top = 0
    while top + kh <= p.shape[2]:
        out_rows.append(top)
        top += stride
    left = 0
    while left + kw <= p.shape[3]:
        out_cols.append(left)
        left += stride
    out = np.zeros((N, F, len(out_rows), len(out_cols)), dtype=x.dtype)
    for a, t in enumerate(out_rows):
        for c, l in enumerate(out_cols):
            block = p[:, None, :, t:t + kh, l:l + kw]  # (N, 1, C, kh, kw)
            out[:, :, a, c] = (block * w[None]).sum(axis=(2, 3, 4)) + b
    return out"""),
    # 11: matrix product per image (im2col per image) with a helper generator
    ('''def patches_of(image, kh, kw, stride):
    """Yield each window of one padded image, row by row."""
    _, h, w_ = image.shape
    for top in range(0, h - kh + 1, stride):
        for left in range(0, w_ - kw + 1, stride):
            yield image[:, top:top + kh, left:left + kw]


''', """nf, c, kh, kw = w.shape
    oh = output_size(x.shape[2], kh, padding, stride)
    ow = output_size(x.shape[3], kw, padding, stride)
    flat_w = w.reshape(nf, -1)
    images = []
    for image in zero_pad(x, padding):
        cols = np.stack([patch.ravel() for patch in patches_of(image, kh, kw, stride)], axis=1)
        images.append((flat_w @ cols + b[:, None]).reshape(nf, oh, ow))
    return np.array(images, dtype=x.dtype)"""),
    # 12: einsum over kernel offsets with python sum
    ("", """kh, kw = w.shape[2:]
    xp = zero_pad(x, padding)
    ho = output_size(x.shape[2], kh, padding, stride)
    wo = output_size(x.shape[3], kw, padding, stride)
    terms = (np.einsum('nchw,fc->nfhw', xp[:, :, i:i + ho * stride:stride, j:j + wo * stride:stride], w[:, :, i, j])
             for i in range(kh) for j in range(kw))
    return (sum(terms) + b[None, :, None, None]).astype(x.dtype)"""),
    # 13: four loops with a precomputed index list
    ("", """batch, _, height, width = x.shape
    filters, _, k_rows, k_cols = w.shape
    out_h = output_size(height, k_rows, padding, stride)
    out_w = output_size(width, k_cols, padding, stride)
    positions = [(i, j, i * stride, j * stride) for i in range(out_h) for j in range(out_w)]
    xpad = zero_pad(x, padding)
    out = np.zeros((batch, filters, out_h, out_w), dtype=x.dtype)
    for image in range(batch):
        for flt in range(filters):
            kernel = w[flt]
            for i, j, y0, x0 in positions:
                out[image, flt, i, j] = float(np.vdot(xpad[image, :, y0:y0 + k_rows, x0:x0 + k_cols], kernel)) + b[flt]
    return out"""),
    # 14: as_strided im2col + matmul
    ("", """N, C, H, W = x.shape
    F, _, R, S = w.shape
    xp = np.ascontiguousarray(zero_pad(x, padding))
    P = (H + 2 * padding - R) // stride + 1
    Q = (W + 2 * padding - S) // stride + 1
    st = xp.strides
    win = np.lib.stride_tricks.as_strided(xp, (N, P, Q, C, R, S),
                                          (st[0], st[2] * stride, st[3] * stride, st[1], st[2], st[3]))
    mat = win.reshape(N * P * Q, C * R * S)
    res = mat @ w.reshape(F, C * R * S).T + b
    return res.reshape(N, P, Q, F).transpose(0, 3, 1, 2).astype(x.dtype)"""),
    # 15: recursion-free functional style with np.fromfunction-like index arrays (fancy indexing im2col)
    ("", """n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    oh = output_size(h, kh, padding, stride)
    ow = output_size(wd, kw, padding, stride)
    xp = zero_pad(x, padding)
    rows = (np.arange(oh) * stride)[:, None] + np.arange(kh)[None, :]   # (oh, kh)
    cols = (np.arange(ow) * stride)[:, None] + np.arange(kw)[None, :]   # (ow, kw)
    gathered = xp[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # (n, c, oh, ow, kh, kw)
    out = np.tensordot(gathered, w, axes=([1, 4, 5], [1, 2, 3]))        # (n, oh, ow, f)
    return (out.transpose(0, 3, 1, 2) + b.reshape(1, f, 1, 1)).astype(x.dtype)"""),
    # 16: loops, filters innermost, bias added at the end
    ("", """nb, nc, ih, iw = x.shape
    nk, _, kh, kw = w.shape
    oh = output_size(ih, kh, padding, stride)
    ow = output_size(iw, kw, padding, stride)
    padded = zero_pad(x, padding)
    result = np.zeros((nb, nk, oh, ow), dtype=x.dtype)
    for y in range(oh):
        for xx in range(ow):
            region = padded[:, :, y * stride:y * stride + kh, xx * stride:xx * stride + kw]
            for k in range(nk):
                result[:, k, y, xx] = (region * w[k]).reshape(nb, -1).sum(axis=1)
    result += b[None, :, None, None]
    return result"""),
    # 17: einsum with sliding_window_view, bias via broadcasting helper
    ('''def add_bias(maps, bias):
    # one bias per filter, broadcast over images and positions
    return maps + bias[np.newaxis, :, np.newaxis, np.newaxis]


''', """sw = np.lib.stride_tricks.sliding_window_view
    k = w.shape[2:]
    v = sw(zero_pad(x, padding), k, axis=(2, 3))
    v = v[:, :, ::stride, ::stride, :, :]
    return add_bias(np.einsum('ncyxij,fcij->nfyx', v, w, optimize=True), b).astype(x.dtype)"""),
    # 18: loops over images only, im2col with python lists per image
    ("", """kh, kw = w.shape[2], w.shape[3]
    nfilt = w.shape[0]
    ho = output_size(x.shape[2], kh, padding, stride)
    wo = output_size(x.shape[3], kw, padding, stride)
    outs = np.zeros((x.shape[0], nfilt, ho, wo), dtype=x.dtype)
    weights = w.reshape(nfilt, -1).T
    for idx, img in enumerate(zero_pad(x, padding)):
        rows = []
        for i in range(ho):
            for j in range(wo):
                rows.append(img[:, i * stride:i * stride + kh, j * stride:j * stride + kw].flatten())
        outs[idx] = (np.array(rows) @ weights + b).T.reshape(nfilt, ho, wo)
    return outs"""),
    # 19: loops with conv_single_step, channels-last transposes
    ("", """xt = zero_pad(x, padding).transpose(0, 2, 3, 1)   # (N, Hp, Wp, C)
    wt = w.transpose(0, 2, 3, 1)                      # (F, KH, KW, C)
    F, KH, KW, _ = wt.shape
    H_out = output_size(x.shape[2], KH, padding, stride)
    W_out = output_size(x.shape[3], KW, padding, stride)
    out = np.empty((x.shape[0], H_out, W_out, F), dtype=x.dtype)
    for n in range(x.shape[0]):
        for h in range(H_out):
            for v in range(W_out):
                patch = xt[n, h * stride:h * stride + KH, v * stride:v * stride + KW, :]
                for f in range(F):
                    out[n, h, v, f] = conv_single_step(patch, wt[f], b[f])
    return out.transpose(0, 3, 1, 2)"""),
]


def honest_solutions() -> list[dict[str, str]]:
    """Twenty solutions: grade_id -> the body (and helpers) of that cell, by :func:`cell_code`."""
    return [{"output_size": OUTPUT_SIZE[k % len(OUTPUT_SIZE)], "zero_pad": ZERO_PAD[k % len(ZERO_PAD)],
             "conv_single_step": SINGLE_STEP[(3 * k) % len(SINGLE_STEP)], "conv2d": CONV2D[k]}
            for k in range(len(CONV2D))]


def cell_code(template: str, answer) -> str:
    """The solution cell as the student hands it in: the template's signature and docstring
    with ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` replaced by the body; ``answer``
    is a body, or ``(helpers above the def, body)``."""
    helpers, body = answer if isinstance(answer, tuple) else ("", answer)
    header = template.split("    # YOUR CODE HERE")[0]
    return helpers + header + "    " + body + "\n"


def planted_copy(solution: dict) -> dict:
    """``solution`` (one of :func:`honest_solutions`) as a copier hands it in: every variable
    renamed, the helper functions in the other order, the comments rewritten."""
    helpers, body = solution["conv2d"]
    renames = {"cols": "matrix", "kh": "k_height", "kw": "k_width", "oh": "rows_out", "ow": "cols_out",
               "xp": "padded_input", "product": "prod", "ci": "channel", "sl": "strip", "bb": "col_k",
               "n": "batch", "c": "channels", "h": "height_in", "width": "width_in", "f": "n_filters",
               "k": "row_index", "a": "row_k"}
    # the helper definitions, each with what follows it, in the other order
    defs = re.split(r"(?=^def )", helpers, flags=re.MULTILINE)
    defs = [d for d in defs if d.strip()]
    helpers = "".join(reversed(defs))
    rewritten = {
        "# one row per kernel entry: that entry's pixel in every window":
            "# fill row k with this kernel position across all the patches",
        "# gather the windows, multiply by the filters in one matrix product":
            "# im2col trick: unroll patches then a single GEMM with the weights",
    }
    for old, new in rewritten.items():
        helpers, body = helpers.replace(old, new), body.replace(old, new)

    def rename(code: str) -> str:
        return re.sub(r"\b(" + "|".join(sorted(renames, key=len, reverse=True)) + r")\b",
                      lambda m: renames[m.group(1)], code)

    copied = dict(solution)
    copied["conv2d"] = (rename(helpers), rename(body))
    return copied
