"""The package's namespace: the generated element-wise functions, the reductions, and the
configuration functions (simd_info, set_isa, set_num_threads, ...).  fastact/__init__.py
re-exports everything here once it knows it runs from a built package (see _source_tree.py)."""
import os as _os
from typing import Any  # noqa: F401  (simd_info's annotation)

from . import kernels as _kernels
from ._args import thread_count
from ._generated import FUNCTIONS as _FUNCTIONS
from ._reductions import *  # noqa: F401,F403
from ._reductions import __all__ as _reduction_names
from ._bce import *  # noqa: F401,F403
from ._bce import __all__ as _bce_names
from ._losses import *  # noqa: F401,F403
from ._losses import __all__ as _losses_names

__version__ = "0.1.0"
_ISA_ENV = _os.environ.get("FASTACT_ISA")    # as read by the kernels at import (simd_info echoes it)

globals().update(_FUNCTIONS)
__all__ = sorted(_FUNCTIONS) + list(_reduction_names) + list(_bce_names) + list(_losses_names) + [
    "get_include", "show_config", "simd_info", "set_isa", "set_num_threads", "get_num_threads"]


def get_include() -> str:
    """The folder holding fastact.h, for C and Cython extensions that embed the kernels."""
    return _os.path.join(_os.path.dirname(__file__), "include")


def simd_info() -> "dict[str, Any]":
    """The kernel variants and threads: {'best', 'current', 'requested', 'available', 'num_threads'}.

    'best' is what this CPU and OS support (cpuid + XCR0), 'current' what runs now
    (every function uses the same variant), 'requested' the FASTACT_ISA value if set,
    'num_threads' the count set_num_threads() / FASTACT_NUM_THREADS gave.
    """
    info = dict(_kernels.isa_info(), num_threads=_kernels.get_num_threads())
    if info["requested"] == "unknown":       # echo what was given, not a placeholder
        info["requested"] = _ISA_ENV
    return info


def set_isa(name: "str | None") -> str:
    """Run every kernel as variant `name` ('scalar', 'sse2', 'avx2', 'avx512' or 'best').

    'best' is the most capable variant this CPU and OS support; None goes back to the
    variant chosen at import: the one FASTACT_ISA names when it is set to a supported
    variant, else 'best' (so `fa.set_isa(None)` undoes earlier set_isa calls).  An unknown
    or unsupported name is a ValueError, anything but a str or None a TypeError; either leaves
    the variant as it was.
    For tests and comparisons (FASTACT_ISA does the same at import); not thread-safe
    against calls running at the same time.  Returns the variant now in use.
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(f"set_isa() argument must be a str or None, not {type(name).__name__!r}")
    return _kernels.set_isa(name)


def set_num_threads(n: int) -> int:
    """Split large calls over `n` threads; returns the previous count.

    The default is 1 (no thread is created), or FASTACT_NUM_THREADS read at import.
    Element-wise calls of at least 65536 elements are cut into contiguous blocks, and
    softmax / log_softmax / logsumexp into blocks of slices (when there are two or more).
    The thread count never changes a result bit.  `n` is an integer from 1 to
    fastact.kernels.THREADS_MAX; the setting is process-wide, and calls from several
    Python threads at once are safe (one of them at a time gets the workers).
    """
    return _kernels.set_num_threads(thread_count(n))


def get_num_threads() -> int:
    """The number of threads large calls are split over (see set_num_threads)."""
    return _kernels.get_num_threads()


def show_config() -> None:
    """Print the version, the kernel variants (available, best for this CPU, requested by
    FASTACT_ISA, in use: one variant serves every function), the thread count, and every
    kernel of the C list by kind (element-wise, gradients, along an axis and losses)."""
    info = simd_info()
    print(f"fastact {__version__}")
    print(f"  kernel variants available : {', '.join(info['available'])}")
    print(f"  best for this CPU and OS  : {info['best']}")
    requested = info["requested"]
    if requested is not None:
        if requested not in _kernels.ISA_NAMES:
            note = f" (unknown variant: ignored; expected one of {', '.join(_kernels.ISA_NAMES)})"
        elif requested not in info["available"]:
            note = " (not supported by this CPU and OS: ignored)"
        else:
            note = ""
        print(f"  FASTACT_ISA               : {_os.environ.get('FASTACT_ISA', requested)}{note}")
    print(f"  in use                    : {info['current']}")
    threads = _kernels.threads_info()
    if threads["requested"] is not None:
        note = (f" (ignored; expected an integer from 1 to {_kernels.THREADS_MAX})"
                if threads["requested"] == "invalid" else "")
        print(f"  FASTACT_NUM_THREADS       : {_os.environ.get('FASTACT_NUM_THREADS', '')}{note}")
    print(f"  threads                   : {threads['num_threads']}")
    overlap = _kernels._set_softmax_overlap(None)
    print(f"  tuning                    : softmax rows (float32 past 4 KB, float64 up to 16 KB) "
          f"{'scaled inside the next row (Intel)' if overlap else 'in two passes'}")
    scalef = _kernels._set_scalef_tiny(None)
    print(f"  tuning                    : subnormal and zero exps "
          f"{'through vscalef, no branch (AMD)' if scalef else 'built on the integer side where needed'}"
          f"{'' if info['current'] == 'avx512' else ' (AVX-512 only)'}")
    print(f"  kernels on {info['current']} ({len(_kernels.OPS)}, every one on this variant):")
    print(f"    element-wise            : {', '.join(_kernels.UNARY_OPS)}")
    print(f"    gradients (two inputs)  : {', '.join(_kernels.BINARY_OPS)}")
    rest = [n for n in _kernels.OPS if n not in _kernels.UNARY_OPS and n not in _kernels.BINARY_OPS]
    print(f"    along an axis, losses   : {', '.join(rest)}")


for _f in (get_include, simd_info, set_isa, set_num_threads, get_num_threads, show_config):
    _f.__module__ = "fastact"

from . import _threadpool  # noqa: E402

_threadpool.install()      # threadpoolctl sees fastact's pool, whichever is imported first


def _warn_ignored_isa():
    """FASTACT_ISA names no variant, or one this CPU lacks: say so once, at import."""
    info = _kernels.isa_info()
    requested = info["requested"]
    if requested is None:
        return
    import warnings
    if requested == "unknown":
        why = f"is not a kernel variant (expected one of {', '.join(_kernels.ISA_NAMES)})"
    elif requested not in info["available"]:
        why = "is not supported by this CPU and OS"
    else:
        return
    warnings.warn(f"FASTACT_ISA={_ISA_ENV!r} {why}: ignored, using {info['current']!r}", UserWarning,
                  stacklevel=3)


_warn_ignored_isa()
