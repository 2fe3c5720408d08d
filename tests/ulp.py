"""Accuracy measurement against mpmath in ULPs, for the tests: fastact/_ulp.py holds it
(shared with tools/ulp_report.py and `python -m fastact`); this module re-exports it and
keeps `sweep`, the pool of inputs the layout, thread and property tests draw from.

docs/SPEC.md section 6: results in the subnormal range count as exact when within one
smallest-normal of the reference (`ulp_errors`); `subnormal_excess` measures them against
one correct rounding instead.  Infinite and NaN references must be matched exactly.
"""
import numpy as np

from fastact._ulp import DIGITS, binade_sweep, fmt, reference, subnormal_excess, ulp_errors  # noqa: F401


def sweep(dtype, lo=-np.inf, hi=np.inf, n=4000, seed=0):
    """A pool of inputs covering [lo, hi] in dtype without a reference: every binade
    (log-spaced), both signs, the interval's ends, a dense uniform part around 0 and random
    bit patterns.  (The accuracy tests use `binade_sweep`, which probes the reference.)"""
    dtype = np.dtype(dtype)
    fi = np.finfo(dtype)
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        mags = np.geomspace(float(fi.smallest_subnormal), float(fi.max), n // 2)
    mags = mags[np.isfinite(mags)]
    pts = [mags, -mags, rng.uniform(-30, 30, n // 4), rng.uniform(-1, 1, n // 8),
           [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 6.0]]
    bits = rng.integers(0, 2 ** (8 * dtype.itemsize), n // 4, dtype=np.uint64)
    raw = bits.astype({4: np.uint32, 8: np.uint64, 2: np.uint16}[dtype.itemsize]).view(dtype)
    pts.append(raw[np.isfinite(raw)].astype(np.float64))
    x = np.concatenate([np.asarray(p, dtype=np.float64) for p in pts]).astype(dtype)
    lo_d = max(lo, -float(fi.max))
    hi_d = min(hi, float(fi.max))
    x = x[(x >= lo_d) & (x <= hi_d)]
    ends = np.array([lo_d, hi_d], dtype=dtype)
    inside = np.linspace(lo_d, hi_d, 64).astype(dtype) if np.isfinite(lo) and np.isfinite(hi) else []
    return np.unique(np.concatenate([x, ends, np.asarray(inside, dtype=dtype)]))
