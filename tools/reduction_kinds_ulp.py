"""Max error in ULPs of softmax / log_softmax / logsumexp over the benchmark's row kinds.

    PYTHONPATH=. FASTACT_ISA=avx2 python tools/reduction_kinds_ulp.py

The rows of benchmarks/bench_reductions.py's kinds (uniform, N(0, 1), N(0, 3), shifted, one
confident class, normalised log-probabilities, -inf entries; the masked kind is left out)
at lengths 17 to 50257, along the last axis, for the kernel variant FASTACT_ISA selects.
Reference: the same rows in x86 `long double` (64-bit significand, 2^-64 relative: 1/2048 of
a float64 ULP), log S taken as log1p of the sum without one max entry, so that 1 + tiny is not
lost.  Which is why float64 covers softmax only: float64 log_softmax / logsumexp results near
0 (normalised rows) need more than long double (tests/test_reductions.py checks them against
mpmath).  Subnormal results within one smallest normal count as exact (docs/SPEC.md section 6).
Prints, per (function, dtype), the max error, the kind and the shape where it occurs.
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import bench_reductions as br  # noqa: E402

import fastact as fa  # noqa: E402
from fastact import _ulp  # noqa: E402

LD = np.longdouble
SHAPES = ((200, 1024), (16, 50257), (300, 257), (40, 4099), (500, 64), (100, 1500), (2000, 17))
FUNCTIONS = {np.float32: ("softmax", "log_softmax", "logsumexp"), np.float64: ("softmax",)}


def ulps(y, ref, dtype):
    """|y - ref| in ULPs of dtype at the long double ref: the test suite's fastact._ulp.ulp_errors
    (the spacing of the exact value's binade; subnormal results within one smallest normal
    count as exact, SPEC section 6; infinities must match) on ref split into a float64 pair."""
    hi = ref.astype(np.float64)
    with np.errstate(invalid="ignore"):
        lo = np.where(np.isfinite(hi), (ref - hi).astype(np.float64), 0.0)
    err = _ulp.ulp_errors(y, hi, lo, dtype).reshape(y.shape)
    if np.isnan(err).any() or np.isinf(err).any():
        raise AssertionError("a NaN or infinite result where the reference differs")
    return err


def references(x):
    xl = x.astype(LD)
    m = xl.max(axis=-1, keepdims=True)
    e = np.exp(xl - m)
    first_max = np.arange(x.shape[1]) == np.argmax(xl, axis=-1)[:, None]
    log_s = np.log1p(np.where(first_max, 0, e).sum(axis=-1, keepdims=True))
    return {"softmax": e / e.sum(axis=-1, keepdims=True), "log_softmax": (xl - m) - log_s,
            "logsumexp": (m + log_s)[:, 0]}


def main():
    if np.finfo(LD).nmant < 63:
        sys.exit("needs an 80-bit long double (x86)")
    worst = {}
    for kind in br.KINDS:
        for shape in SHAPES:
            for dtype, names in FUNCTIONS.items():
                x, where = br.make(kind, shape, dtype)
                if where is not None:
                    continue
                refs = references(x)
                for name in names:
                    err = float(ulps(getattr(fa, name)(x, axis=-1), refs[name], dtype).max())
                    key = (name, np.dtype(dtype).name)
                    if err >= worst.get(key, (-1.0,))[0]:
                        worst[key] = (err, kind, shape)
    print(f"variant: {fa.simd_info()['current']}")
    for (name, dtype), (err, kind, shape) in worst.items():
        print(f"{name:12s} {dtype:8s} {err:6.2f} ULP  ({kind}, {shape})")


if __name__ == "__main__":
    main()
