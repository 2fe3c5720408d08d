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


# row references for the tests of the chunked (Dask) reductions and their C stages
def mp_lse_rows(rows, w=None, keep=None):
    """(hi, lo, sign) of log|sum w e^x| per row, mpmath at 50 digits (nothing kept: -inf, sign 0)."""
    import mpmath
    hi, lo, sign = np.empty(len(rows)), np.zeros(len(rows)), np.empty(len(rows))
    with mpmath.workdps(50):
        for r, row in enumerate(rows):
            s = mpmath.mpf(0)
            for k, v in enumerate(row):
                if keep is not None and not keep[r, k]:
                    continue
                wk = 1 if w is None else mpmath.mpf(float(w[r, k]))
                if wk == 0:
                    continue
                s += wk * mpmath.exp(mpmath.mpf(float(v)))
            if s == 0:
                hi[r], sign[r] = -np.inf, 0.0
                continue
            v = mpmath.log(abs(s))
            hi[r] = float(v)
            lo[r] = float(v - mpmath.mpf(hi[r]))
            sign[r] = 1.0 if s > 0 else -1.0
    return hi, lo, sign


def mp_softmax_rows(rows, keep=None, log=False):
    """(hi, lo) of softmax (log_softmax with log=True) per row, mpmath at 50 digits; entries
    not kept: 0 (-inf)."""
    import mpmath
    hi, lo = np.empty(rows.shape), np.zeros(rows.shape)
    with mpmath.workdps(50):
        for r, row in enumerate(rows):
            kept = [k for k in range(len(row)) if keep is None or keep[r, k]]
            m = max(mpmath.mpf(float(row[k])) for k in kept)
            s = mpmath.fsum(mpmath.exp(mpmath.mpf(float(row[k])) - m) for k in kept)
            for k in range(len(row)):
                if k not in kept:
                    hi[r, k] = -np.inf if log else 0.0
                    continue
                ls = (mpmath.mpf(float(row[k])) - m) - mpmath.log(s)
                v = ls if log else mpmath.exp(ls)
                hi[r, k] = float(v)
                lo[r, k] = float(v - mpmath.mpf(hi[r, k]))
    return hi, lo


# rows for the tests of logsumexp along rows (src_c/reductions/fa_rows.h: fa_sm_lse_rows)
def log_probability_rows(dtype, n, count, seed, shifted=False):
    """count rows of n log-probabilities (log_softmax of N(0, s) logits, s cycling through
    0.3, 1 and 3, in float64, then rounded to dtype): logsumexp ~0, M + l cancels.
    shifted: plus a constant c per row, uniform in (-1, 1) for the first half of the rows and
    in [1, 1.4) for the others, so the logsumexp ~c lies around the bounds where
    reductions/fa_lse_value.h chooses between M + l and the unshifted sum, with M >= 0 and
    M < 0 both."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((count, n)) * np.resize([0.3, 1.0, 3.0], count)[:, None]
    top = logits.max(axis=1, keepdims=True)
    lp = (logits - top) - np.log(np.sum(np.exp(logits - top), axis=1, keepdims=True))
    if shifted:
        half = count // 2
        lp += np.concatenate([rng.uniform(-1, 1, half), rng.uniform(1, 1.4, count - half)])[:, None]
    return lp.astype(dtype)
