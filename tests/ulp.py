"""Accuracy measurement against a high-precision (mpmath) reference, in ULPs.

The reference is computed at 50 significant digits and kept as a double-double
(hi + lo) float64 pair, enough to measure float64 results to a fraction of an ULP.
The ULP of a value is the spacing of the target dtype at the *exact* result
(2^(e-p+1) for |r| in [2^e, 2^(e+1))), the subnormal spacing below the smallest normal.
SPEC.md section 6: results in the subnormal range count as exact when within one
smallest-normal of the reference.  Infinite and NaN references must be matched exactly.
"""
import numpy as np

try:
    import mpmath
except ImportError:  # the tests that need it skip through pytest.importorskip
    mpmath = None

DIGITS = 50
_PREC = {np.dtype(np.float32): (24, -126), np.dtype(np.float64): (53, -1022), np.dtype(np.float16): (11, -14)}


def reference(fn, xs, *params):
    """(hi, lo) float64 arrays with hi + lo = fn(mpmath, x, *params) to ~106 bits."""
    xs = np.asarray(xs, dtype=np.float64).ravel()
    hi = np.empty(xs.shape)
    lo = np.zeros(xs.shape)
    with mpmath.workdps(DIGITS):
        for i, x in enumerate(xs):
            if np.isnan(x):
                hi[i] = np.nan
                continue
            r = fn(mpmath, mpmath.mpf(float(x)), *params)
            if isinstance(r, (int, float)):
                r = mpmath.mpf(r)
            h = float(r)
            hi[i] = h
            if np.isfinite(h):
                lo[i] = float(r - mpmath.mpf(h))
    return hi, lo


def ulp_errors(got, hi, lo, dtype):
    """Per-element error of `got` (computed in dtype) against hi + lo, in ULPs of dtype."""
    dtype = np.dtype(dtype)
    p, emin = _PREC[dtype]
    got = np.asarray(got, dtype=np.float64).ravel()
    hi = np.asarray(hi, dtype=np.float64).ravel()
    lo = np.asarray(lo, dtype=np.float64).ravel()
    err = np.zeros(got.shape)
    with np.errstate(all="ignore"):
        rounded = hi.astype(dtype).astype(np.float64)   # the reference in dtype (inf on overflow)
        special = ~np.isfinite(rounded)
        same = (got == rounded) | (np.isnan(got) & np.isnan(rounded))
        err[special] = np.where(same[special], 0.0, np.inf)
        fin = ~special
        _, e = np.frexp(np.abs(hi[fin]))
        ulp = np.ldexp(1.0, np.maximum(e - p, emin - p + 1))
        diff = np.abs((got[fin] - hi[fin]) - lo[fin])
        ferr = diff / ulp
        ferr[~np.isfinite(got[fin])] = np.inf
        tiny = np.ldexp(1.0, emin)
        ferr[(np.abs(hi[fin]) < tiny) & (diff <= tiny)] = 0.0
        err[fin] = ferr
    return err


def sweep(dtype, lo=-np.inf, hi=np.inf, n=4000, seed=0):
    """Inputs covering [lo, hi] in dtype: every binade (log-spaced), both signs, the
    interval's ends, a dense uniform part around 0 and random bit patterns."""
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
