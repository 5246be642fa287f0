"""course_utils.reference answers every one of PyTorch's own test inputs for its ops, equally.

PyTorch describes each op of its test suite with an ``OpInfo`` whose ``sample_inputs`` are the
calls the op must get right: batched and unbatched inputs, tuple and int arguments, string
padding, groups, ceil mode, indices, empty and 0-d tensors. Here every sample of
``nn.functional.conv2d``, ``nn.functional.max_pool2d``, ``nn.functional.avg_pool2d``,
``nn.functional.relu`` and ``softmax`` (both variants: plain and ``with_dtype``), in float64 and
float32, goes through the reference with its args and kwargs bound to the reference's own
signature (so an argument the reference lacks counts as a refusal, not a silent default), and
must equal PyTorch:

* forward: same shape, same dtype, values within float tolerance (max_pool2d's indices exactly);
* backward, for every op the reference has a backward for (all but softmax): the reference's
  ``*_backward`` against ``torch.autograd.grad`` with the same random ``grad_out``.

The counts (samples, answered, equal) per op and dtype are printed at the end of the run and
recorded as properties (``--junitxml``). ``torch.testing._internal`` needs the ``expecttest``
package: without it this module skips, and under ``CI=true`` it fails instead.
"""

from __future__ import annotations

import contextlib
import inspect
import os

import hypothesis
import numpy as np
import pytest
import torch

from course_utils import reference

# (OpInfo name, variant_test_name) -> the reference forward op and its backward (None: no backward).
OPS = {
    ("nn.functional.conv2d", ""): (reference.conv2d, reference.conv2d_backward),
    ("nn.functional.max_pool2d", ""): (reference.max_pool2d, reference.max_pool2d_backward),
    ("nn.functional.avg_pool2d", ""): (reference.avg_pool2d, reference.avg_pool2d_backward),
    ("nn.functional.relu", ""): (reference.relu, reference.relu_backward),
    ("softmax", ""): (reference.softmax, None),
    ("softmax", "with_dtype"): (reference.softmax, None),
}
DTYPES = {torch.float64: np.float64, torch.float32: np.float32}
# Relative tolerance, and the absolute one as a fraction of the largest expected magnitude
# (a sum of many products can cancel to ~0 where rounding errors of its terms remain).
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}

COUNTS: dict[str, dict[str, int]] = {}


@pytest.fixture(scope="module")
def op_db():
    try:
        import expecttest  # noqa: F401  (torch.testing._internal imports it)
    except ImportError:
        message = ("PyTorch's OpInfo database (torch.testing._internal) needs the 'expecttest' "
                   "package: pip install expecttest")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: failing instead of skipping)")
        pytest.skip(message)
    with global_state_kept():
        from torch.testing._internal.common_methods_invocations import op_db

    return {(op.name, op.variant_test_name): op for op in op_db}


@contextlib.contextmanager
def global_state_kept():
    """Undo what importing ``torch.testing._internal.common_utils`` does to the whole run.

    It loads its own hypothesis profile (10 random examples, or 50 under CI) over the one
    ``conftest.py`` loaded, replaces the "dev" profile of the same name, and freezes
    ``torch.backends`` flags (setting ``cudnn.benchmark`` would then raise). Every later test in
    the same pytest run would feel it; this puts all three back.
    """
    default = hypothesis.settings.default
    dev = _profile_or_none("dev")
    frozen = torch.backends.flags_frozen()
    try:
        yield
    finally:
        if dev is not None:
            hypothesis.settings.register_profile("dev", dev)
        hypothesis.settings.register_profile("course_utils_before_opinfo", default)
        hypothesis.settings.load_profile("course_utils_before_opinfo")
        if not frozen and torch.backends.flags_frozen():
            # torch.backends is a wrapper module: the flag lives in its functions' globals.
            torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True
            assert not torch.backends.flags_frozen()


def _profile_or_none(name: str):
    try:
        return hypothesis.settings.get_profile(name)
    except Exception:  # hypothesis raises InvalidArgument for an unknown profile
        return None


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The samples are tiny: a second thread only adds waiting (badly, on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", autouse=True)
def print_counts(request):
    yield
    if not COUNTS:
        return
    lines = ["", "OpInfo samples through course_utils.reference (forward, and backward where the "
             "reference has one):",
             f"  {'op':<36} {'dtype':<8} {'samples':>7} {'answered':>8} {'equal':>6} "
             f"{'backward':>8}"]
    for key, c in COUNTS.items():
        op, dtype = key.rsplit(" ", 1)
        lines.append(f"  {op:<36} {dtype:<8} {c['samples']:>7} {c['answered']:>8} "
                     f"{c['equal']:>6} {c['backward']:>8}")
    total = {key: sum(c[key] for c in COUNTS.values())
             for key in ("samples", "answered", "equal", "backward")}
    lines.append(f"  {'total':<45} {total['samples']:>7} {total['answered']:>8} "
                 f"{total['equal']:>6} {total['backward']:>8}")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():  # shown without -s, after the progress dots
        print("\n".join(lines))


def to_numpy(value):
    """Tensors become numpy arrays, torch dtypes numpy dtypes; containers are walked."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, torch.dtype):
        return DTYPES[value]
    if isinstance(value, (list, tuple)):
        return type(value)(to_numpy(item) for item in value)
    return value


def difference(ours, theirs: torch.Tensor, dtype: torch.dtype) -> str | None:
    """None if ``ours`` equals ``theirs`` (shape, dtype, values within tolerance), else why not."""
    expected = theirs.detach().cpu().numpy()
    if not isinstance(ours, np.ndarray):
        return f"returned {type(ours).__name__}, not an ndarray"
    if ours.shape != expected.shape:
        return f"shape {ours.shape}, torch {expected.shape}"
    if ours.dtype != expected.dtype:
        return f"dtype {ours.dtype}, torch {expected.dtype}"
    if expected.dtype.kind in "iu":
        return None if np.array_equal(ours, expected) else "indices differ"
    if expected.size == 0:
        return None
    tolerance = TOLERANCE[dtype]
    finite = np.abs(expected[np.isfinite(expected)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    if np.allclose(ours, expected, rtol=tolerance, atol=tolerance * scale, equal_nan=True):
        return None
    worst = np.nanmax(np.abs(ours.astype(float) - expected))
    return f"max abs difference {worst:.3g} (scale {scale:.3g})"


def backward_call(name: str, backward, grad_out, bound: inspect.BoundArguments):
    """The reference backward with the forward call's (bound) arguments."""
    args = dict(bound.arguments)
    x = args.pop("x")
    if name == "nn.functional.conv2d":
        args.pop("bias", None)
    if name == "nn.functional.max_pool2d":
        args.pop("return_indices", None)
    return backward(grad_out, x, **args)


def check_sample(name: str, forward, backward, op, sample, dtype, seed: int):
    """Run one sample both ways. Returns (answered, why not equal or None, backward checked)."""
    expected = op(sample.input, *sample.args, **sample.kwargs)
    try:
        bound = inspect.signature(forward).bind(
            to_numpy(sample.input), *to_numpy(sample.args), **to_numpy(sample.kwargs)
        )
        got = forward(*bound.args, **bound.kwargs)
    except (TypeError, ValueError, IndexError) as error:
        return False, f"refused: {type(error).__name__}: {error}", False
    expected_parts = expected if isinstance(expected, tuple) else (expected,)
    got_parts = got if isinstance(got, tuple) else (got,)
    if len(got_parts) != len(expected_parts):
        return True, f"returned {len(got_parts)} outputs, torch {len(expected_parts)}", False
    for part, (ours, theirs) in enumerate(zip(got_parts, expected_parts)):
        why = difference(ours, theirs, dtype)
        if why:
            return True, f"forward output {part}: {why}", False
    if backward is None:
        return True, None, False

    tensors = [t for t in (sample.input, *sample.args) if isinstance(t, torch.Tensor)
               and t.requires_grad]
    generator = torch.Generator().manual_seed(seed)
    grad_out = torch.randn(expected_parts[0].shape, generator=generator,
                           dtype=expected_parts[0].dtype)
    expected_grads = torch.autograd.grad(expected_parts[0], tensors, grad_out, allow_unused=True)
    try:
        got_grads = backward_call(name, backward, grad_out.numpy(), bound)
    except (TypeError, ValueError, IndexError) as error:
        return False, f"backward refused: {type(error).__name__}: {error}", False
    got_grads = got_grads if isinstance(got_grads, tuple) else (got_grads,)
    for what, ours, theirs in zip(("grad_x", "grad_weight", "grad_bias"), got_grads, expected_grads):
        why = difference(ours, theirs, dtype)
        if why:
            return True, f"backward {what}: {why}", True
    return True, None, True


@pytest.mark.parametrize("dtype", list(DTYPES), ids=["float64", "float32"])
@pytest.mark.parametrize("name, variant", list(OPS),
                         ids=[f"{n}{'.' + v if v else ''}" for n, v in OPS])
def test_every_opinfo_sample_is_answered_and_equals_torch(op_db, name, variant, dtype,
                                                           record_property):
    op = op_db[(name, variant)]
    forward, backward = OPS[(name, variant)]
    with torch.random.fork_rng(devices=[]):  # leave the global generator as other tests find it
        torch.manual_seed(0)  # the samples are random tensors: the same ones on every run
        samples = list(op.sample_inputs("cpu", dtype, requires_grad=True))
    counts = {"samples": len(samples), "answered": 0, "equal": 0, "backward": 0}
    failures = []
    for index, sample in enumerate(samples):
        answered, why, backward_checked = check_sample(name, forward, backward, op, sample, dtype,
                                                       seed=index)
        counts["answered"] += answered
        counts["equal"] += why is None
        counts["backward"] += backward_checked and why is None
        if why is not None:
            failures.append(f"sample {index} (input {tuple(sample.input.shape)}, args "
                            f"{to_numpy(sample.args)!r:.80}, kwargs {sample.kwargs}): {why}")
    label = f"{name}{'.' + variant if variant else ''} {str(dtype).removeprefix('torch.')}"
    COUNTS[label] = counts
    for key, value in counts.items():
        record_property(key, value)
    assert counts["samples"] > 0, f"PyTorch has no samples for {label}"
    assert counts["equal"] == counts["samples"], (
        f"{label}: {counts['equal']} of {counts['samples']} samples equal torch "
        f"({counts['answered']} answered); first failures:\n  " + "\n  ".join(failures[:8])
    )
