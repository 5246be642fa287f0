"""The delegation guard: a student's function must compute the answer itself.

In these assignments students write convolution and pooling, and their backward passes, with
numpy. A function that hands the work to :mod:`course_utils` (whose reference ops are the
answer key), PyTorch (its autograd included), SciPy or another library's convolution or pooling
fails its check with :class:`DelegationError`.
Two layers, each simple:

* :func:`check_source` reads the function's bytecode before it runs: every global or closure
  name it loads (and, recursively, the student's own helper functions it calls) and every
  module it imports. A name bound to one of those libraries, or to a function or object from
  them, is delegation.
* :func:`tripwires` covers what a static read cannot see (``getattr``, ``importlib``, a module
  reached through an attribute): while the student's function runs, the libraries' convolution
  and pooling entry points and every ``course_utils`` function are replaced by tripwires, and
  importing one of those libraries is refused. A tripwire that fires fails the check even if
  the student's code catches the error.

Plain numpy (arithmetic, ``np.sum``, ``np.pad``, ``np.max``, even ``sliding_window_view``)
is allowed; ``np.convolve`` and ``np.correlate`` are not.
"""

from __future__ import annotations

import dis
import functools
import importlib.abc
import inspect
import sys
import textwrap
import types
from contextlib import contextmanager

#: Top-level packages a student's function may not use at all.
BANNED_PACKAGES = (
    "course_utils", "torch", "scipy", "tensorflow", "jax", "keras", "skimage", "cv2", "sklearn",
)

#: Library entry points replaced by tripwires while a student's function runs (modules that are
#: not imported are not touched; importing them is refused instead).
ENTRY_POINTS = {
    "numpy": ("convolve", "correlate"),
    "torch": ("conv1d", "conv2d", "conv3d", "conv_transpose2d", "max_pool1d", "max_pool2d",
              "avg_pool1d", "avg_pool2d", "relu", "relu_", "clamp", "clamp_min", "from_numpy",
              "tensor", "as_tensor", "asarray"),
    # a3_backprop: gradients by PyTorch's autograd (Tensor.backward calls autograd.backward)
    "torch.autograd": ("grad", "backward"),
    "torch.nn.grad": ("conv2d_input", "conv2d_weight"),
    "torch.nn.functional": ("conv1d", "conv2d", "conv3d", "conv_transpose2d", "unfold", "fold",
                            "max_pool1d", "max_pool2d", "max_pool2d_with_indices", "avg_pool1d",
                            "avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool2d",
                            "lp_pool2d", "relu", "relu_", "pad", "max_unpool2d", "threshold"),
    "scipy.signal": ("convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve",
                     "oaconvolve"),
    "scipy.ndimage": ("convolve", "correlate", "maximum_filter", "minimum_filter",
                      "uniform_filter", "generic_filter"),
}

ADVICE = (
    "In this assignment you write the computation yourself with numpy (loops, slicing, "
    "np.sum, np.max, ...): do not call course_utils, PyTorch (its autograd included), SciPy or "
    "another library's convolution or pooling."
)


class DelegationError(AssertionError):
    """A student's function called a library instead of computing the answer itself.

    Shown as its message alone, like a failed check: no traceback through the grading code.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31mDelegationError\x1b[0m: {self}"]


def _banned_module(name) -> bool:
    return isinstance(name, str) and any(
        name == package or name.startswith(package + ".") for package in BANNED_PACKAGES
    )


def _origin(value) -> str | None:
    """What banned library ``value`` comes from, in words, or ``None`` if it is allowed."""
    if isinstance(value, types.ModuleType):
        return f"the module {value.__name__}" if _banned_module(value.__name__) else None
    if isinstance(value, functools.partial):
        return _origin(value.func)
    module = getattr(value, "__module__", None) if callable(value) else None
    if _banned_module(module):
        return f"{module}.{getattr(value, '__qualname__', getattr(value, '__name__', '?'))}"
    if value is getattr(sys.modules.get("numpy"), "convolve", None) or value is getattr(
        sys.modules.get("numpy"), "correlate", None
    ):
        return f"numpy.{value.__name__}"
    kind = type(value)
    if not isinstance(value, type) and _banned_module(kind.__module__):
        return f"a {kind.__module__}.{kind.__qualname__} object"
    return None


def find_delegation(function) -> list[str]:
    """Everything banned that ``function`` (or a helper of the student's it calls) uses.

    Each entry reads like ``"torch.nn.functional.conv2d (the name `conv`)"`` or
    ``"import scipy.signal"``. Reads bytecode only; runs nothing.
    """
    found: list[str] = []
    seen: set[int] = set()

    def look_at(name: str, value, home_globals) -> None:
        origin = _origin(value)
        if origin is not None:
            entry = f"{origin} (the name `{name}`)"
            if entry not in found:
                found.append(entry)
        elif isinstance(value, types.FunctionType) and value.__globals__ is home_globals:
            scan_function(value)  # the student's own helper, e.g. conv2d calling zero_pad

    def scan_code(code: types.CodeType, home_globals: dict, closure: dict) -> None:
        for instruction in dis.get_instructions(code):
            name = instruction.argval
            if instruction.opname == "IMPORT_NAME" and _banned_module(name):
                if f"`import {name}`" not in found:
                    found.append(f"`import {name}`")
            elif instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME") and name in home_globals:
                look_at(name, home_globals[name], home_globals)
            elif instruction.opname in ("LOAD_DEREF", "LOAD_CLASSDEREF") and name in closure:
                look_at(name, closure[name], home_globals)
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):  # comprehensions, lambdas, inner functions
                scan_code(constant, home_globals, closure)

    def scan_function(func: types.FunctionType) -> None:
        if id(func) in seen:
            return
        seen.add(id(func))
        closure = {}
        for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
            try:
                closure[name] = cell.cell_contents
            except ValueError:  # a cell not yet filled
                continue
        for value in (*(func.__defaults__ or ()), *(func.__kwdefaults__ or {}).values()):
            look_at("a default argument", value, func.__globals__)
        scan_code(func.__code__, func.__globals__, closure)

    target = function.func if isinstance(function, functools.partial) else function
    target = inspect.unwrap(getattr(target, "__func__", target))  # bound methods, decorators
    if isinstance(target, types.FunctionType):
        scan_function(target)
    else:
        origin = _origin(target)
        if origin is not None:
            found.append(origin)
    return found


def message(function_name: str, uses: list[str]) -> str:
    """What a student reads: which library the function used, and what to do instead (lines of
    at most 80 characters, which nbgrader's validate shows whole)."""
    text = f"{function_name} delegates instead of computing: it uses {'; '.join(uses)}."
    return "\n".join(textwrap.wrap(text, 80) + textwrap.wrap(ADVICE, 80))


def check_source(function, function_name: str) -> None:
    """Raise :class:`DelegationError` if ``function``'s code uses a banned library."""
    __tracebackhide__ = True
    uses = find_delegation(function)
    if uses:
        raise DelegationError(message(function_name, uses))


class _ImportBlocker(importlib.abc.MetaPathFinder):
    """Refuse to import a banned package (one not yet imported) while a student's code runs."""

    def __init__(self, function_name: str, calls: list[str]):
        self.function_name = function_name
        self.calls = calls

    def find_spec(self, fullname, path=None, target=None):
        if _banned_module(fullname) and not fullname.startswith("course_utils.grading"):
            self.calls.append(f"`import {fullname}`")
            raise DelegationError(message(self.function_name, [f"`import {fullname}`"]))
        return None


def _tripwire(qualified_name: str, function_name: str, calls: list[str]):
    def tripped(*args, **kwargs):
        calls.append(qualified_name)
        raise DelegationError(message(function_name, [qualified_name]))

    return tripped


def _entry_points():
    """``(module, attribute name, qualified name)`` for everything to replace right now."""
    for module_name, names in ENTRY_POINTS.items():
        module = sys.modules.get(module_name)
        for name in names if module is not None else ():
            if hasattr(module, name):
                yield module, name, f"{module_name}.{name}"
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith("course_utils") or module_name.startswith(
            "course_utils.grading"
        ):
            continue
        for name, value in list(vars(module).items()):
            if isinstance(value, types.FunctionType) and not name.startswith("__"):
                yield module, name, f"{module_name}.{name}"


@contextmanager
def tripwires(function_name: str):
    """While the block runs, banned entry points raise :class:`DelegationError`; if any fired,
    the block fails with it even when the student's code caught the error."""
    __tracebackhide__ = True
    calls: list[str] = []
    saved = []
    for module, name, qualified in _entry_points():
        saved.append((module, name, getattr(module, name)))
        setattr(module, name, _tripwire(qualified, function_name, calls))
    blocker = _ImportBlocker(function_name, calls)
    sys.meta_path.insert(0, blocker)
    try:
        yield
    except DelegationError:
        raise
    except Exception as error:
        if calls:
            raise DelegationError(message(function_name, calls)) from error
        raise
    finally:
        sys.meta_path.remove(blocker)
        for module, name, original in reversed(saved):
            setattr(module, name, original)
    if calls:
        raise DelegationError(message(function_name, calls))
