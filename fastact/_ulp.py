"""Accuracy in ULPs against a 50-digit mpmath reference: the one implementation used by the
tests (tests/ulp.py), tools/ulp_report.py and `python -m fastact`.

- `reference(fn, xs, *params)`: (hi, lo) float64 arrays, hi + lo = fn(mpmath, x, *params) to
  ~106 bits, each value computed once per process (an in-memory cache); `hi_lo(values)` the
  same split for mpmath values computed elsewhere (the reductions).
- `ulp_errors(got, hi, lo, dtype)`: the error of each result in ULPs of dtype (vectorised).
- `binade_sweep(fn, params, dtype, domain)`: inputs covering every binade of the input where
  the reference says the output is not yet settled (0, +-inf, a constant or a multiple of x,
  the identity included), both signs, with the edges probed in every binade of the dtype.

mpmath is imported on first use only: `import fastact` never loads it.
"""
import math

import numpy as np

DIGITS = 50

# dtype -> (precision p, smallest normal exponent, smallest subnormal exponent)
_FORMAT = {np.dtype(np.float16): (11, -14, -24), np.dtype(np.float32): (24, -126, -149),
           np.dtype(np.float64): (53, -1022, -1074)}

_CACHE = {}     # (fn, params) -> {x: (hi, lo)}


def _mpmath():
    import mpmath
    return mpmath


def fmt(dtype):
    """(p, emin, esub): the precision, the smallest normal and subnormal exponents of dtype."""
    return _FORMAT[np.dtype(dtype)]


def hi_lo(values):
    """(hi, lo) float64 arrays from mpmath numbers: hi + lo = each value to ~106 bits."""
    mp = _mpmath()
    hi = np.array([float(v) for v in values], dtype=np.float64)
    lo = np.array([float(v - mp.mpf(h)) if math.isfinite(h) else 0.0 for v, h in zip(values, hi.tolist())],
                  dtype=np.float64)
    return hi, lo


def reference(fn, xs, *params):
    """(hi, lo) float64 arrays with hi + lo = fn(mpmath, x, *params) at DIGITS digits, to ~106
    bits; NaN inputs give NaN.  Each (fn, params, x) is evaluated once per process."""
    xs = np.asarray(xs, dtype=np.float64).ravel()
    cache = _CACHE.setdefault((fn, params), {})
    hi = np.empty(xs.shape)
    lo = np.zeros(xs.shape)
    mp = None
    for i, x in enumerate(xs.tolist()):
        got = cache.get(x)
        if got is None:
            if x != x:
                got = (math.nan, 0.0)
            else:
                if mp is None:
                    mp = _mpmath()
                with mp.workdps(DIGITS):
                    r = fn(mp, mp.mpf(x), *params)
                    if isinstance(r, (int, float)):
                        r = mp.mpf(r)
                    h = float(r)
                    got = (h, float(r - mp.mpf(h)) if math.isfinite(h) else 0.0)
            if x != 0:                 # -0.0 and 0.0 share a key: evaluate zeros every time
                cache[x] = got
        hi[i], lo[i] = got
    return hi, lo


def ulp_errors(got, hi, lo, dtype, subnormal="spec"):
    """Per-element error of `got` (a result in dtype) against hi + lo, in ULPs of dtype.

    The ULP is the spacing of dtype at the exact result (2^(e-p+1) for |r| in [2^e, 2^(e+1)),
    the subnormal spacing below the smallest normal).  Infinite and NaN references must be
    matched exactly (error 0, else inf).  Results in the subnormal range:
      subnormal="spec"    docs/SPEC.md section 6: exact when within one smallest normal of the reference;
      subnormal="rounded" no exemption: the error in subnormal spacings (<= 0.5: correctly
                          rounded; see also `subnormal_excess`).
    """
    dtype = np.dtype(dtype)
    p, emin, _ = _FORMAT[dtype]
    got, hi, lo = _flat64(got, hi, lo)
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
        if subnormal == "spec":
            tiny = math.ldexp(1.0, emin)
            ferr[(np.abs(hi[fin]) < tiny) & (diff <= tiny)] = 0.0
        err[fin] = ferr
    return err


def subnormal_excess(got, hi, lo, dtype, bound):
    """For results whose exact value is below the smallest normal: how far |got - r| exceeds
    what a kernel within `bound` ULPs (with an unbounded exponent) followed by one correct
    rounding to a subnormal can give, 0.5 subnormal spacing + bound * 2^(e-p+1), in
    subnormal spacings (0 where it does not exceed, and for normal results).  (A float64
    reference below 2^-1022 is itself rounded to the subnormal grid: there an excess of 0.5
    is a result one spacing from the correctly rounded one.)"""
    dtype = np.dtype(dtype)
    p, emin, esub = _FORMAT[dtype]
    got, hi, lo = _flat64(got, hi, lo)
    out = np.zeros(got.shape)
    with np.errstate(all="ignore"):
        sub = np.isfinite(hi) & (np.abs(hi) < math.ldexp(1.0, emin)) & (hi != 0)
        g, h, l = (np.ldexp(a[sub], -esub) for a in (got, hi, lo))   # in subnormal spacings
        _, e = np.frexp(np.abs(h))
        allowed = 0.5 + bound * np.ldexp(1.0, e - p)
        diff = np.abs((g - h) - l)
        out[sub] = np.maximum(diff - allowed, 0.0)
        out[sub & ~np.isfinite(got)] = np.inf
    return out


def _flat64(*arrays):
    return tuple(np.asarray(a, dtype=np.float64).ravel() for a in arrays)


# ---------------------------------------------------------------------------------------
# the binade sweep

def _settled(x0, h0, l0, x1, h1, l1, dtype):
    """True where the output is settled over [x0, x1] (the reference's values at both ends):
    the same value in dtype at both (0, +-inf, a constant such as 1 or -alpha), or the same
    multiple of x (identity, x/2, alpha*x ...) to a 16th of an ULP of dtype."""
    p = _FORMAT[np.dtype(dtype)][0]
    with np.errstate(all="ignore"):
        r0, r1 = h0.astype(dtype), h1.astype(dtype)
        same_value = (r0 == r1) & (np.signbit(r0) == np.signbit(r1))
        # x0, x1 are +-powers of two (origin 0): h/x and l/x are exact
        k0h, k0l, k1h, k1l = h0 / x0, l0 / x0, h1 / x1, l1 / x1
        dk = (k0h - k1h) + (k0l - k1l)
        linear = np.isfinite(k0h) & np.isfinite(k1h) & (k1h != 0) & \
            (np.abs(dk) <= np.abs(k1h) * math.ldexp(1.0, -p - 4))
    return same_value | linear


def _binade_points(rng, e, count, dtype):
    """`count` random magnitudes in [2^e, 2^(e+1)) representable in dtype (all of them if
    the binade holds no more than `count`)."""
    p, _, esub = _FORMAT[np.dtype(dtype)]
    spacing_exp = max(e - p + 1, esub)
    n_values = 2 ** (e - spacing_exp)
    if n_values <= count:
        k = np.arange(n_values)
    elif n_values <= 64 * count:
        k = rng.choice(n_values, count, replace=False)
    else:
        k = rng.integers(0, n_values, count)
    return np.ldexp(1.0 + k / float(n_values), e)


def binade_sweep(fn, params, dtype, domain=(-math.inf, math.inf), per_binade=16, settled_per_binade=1,
                 seed=0):
    """Inputs (a sorted array of dtype) for measuring fn over its whole input range.

    Every binade 2^e <= |x - a| < 2^(e+1) of the dtype, from the smallest subnormal to the
    largest finite, is probed at its edge 2^e with the reference, on each side of each origin
    a (0, both signs; a finite end of `domain`, towards the inside).  A binade whose two edges
    show a settled output (`_settled`: 0, +-inf, a constant, k*x) gets `settled_per_binade`
    random points besides its edge; every other binade, and the binades next to it, gets
    `per_binade` random mantissas (times the number of output binades it spans over 4, up to
    16: an exponential tail, where a rounded argument turns into a relative error, is swept
    densely down to its subnormal results) plus its top edge (the largest float below 2^(e+1))."""
    dtype = np.dtype(dtype)
    fi = np.finfo(dtype)
    _, _, esub = _FORMAT[dtype]
    exps = np.arange(esub, int(fi.maxexp))          # binades [2^e, 2^(e+1)), e = esub .. emax
    lo_d, hi_d = max(domain[0], -float(fi.max)), min(domain[1], float(fi.max))
    rng = np.random.default_rng(seed)
    origins = []
    if domain[0] < 0 < domain[1] or domain[0] == 0 or domain[1] == 0 or not math.isfinite(domain[0]):
        origins += [(0.0, 1.0), (0.0, -1.0)]
    for end, direction in ((domain[0], 1.0), (domain[1], -1.0)):
        if math.isfinite(end) and end != 0:
            origins.append((end, direction))
    pts = []
    for a, s in origins:
        mags = np.ldexp(1.0, exps)                  # the edges 2^e (and 2^(emax+1) -> inf, dropped)
        with np.errstate(over="ignore"):
            edges = (a + s * mags).astype(dtype).astype(np.float64)
        ok = np.isfinite(edges) & (edges >= lo_d) & (edges <= hi_d) & (edges != a)
        if a != 0:                                  # keep the binades whose edge is exact
            ok &= (edges - a) == s * mags
        e_ok, x_edges = exps[ok], edges[ok]
        if x_edges.size == 0:
            continue
        h, l = reference(fn, x_edges, *params)
        pts.append(x_edges)
        if a == 0 and x_edges.size > 1:
            settled = _settled(x_edges[:-1], h[:-1], l[:-1], x_edges[1:], h[1:], l[1:], dtype)
            settled = np.append(settled, True)      # the top binade: [2^emax, max]
        else:
            settled = np.zeros(x_edges.size, bool)
        active = ~settled
        active[1:] |= ~settled[:-1]                 # one binade of margin each side
        active[:-1] |= ~settled[1:]
        # output binades each input binade spans (exponential tails span many): up to 16x the points
        with np.errstate(divide="ignore"):
            lg = np.clip(np.log2(np.abs(h)), -1100, 1100)
        span = np.abs(np.diff(lg, append=lg[-1:]))
        weight = np.clip(np.nan_to_num(span, nan=4.0) / 4, 1, 16).astype(int)
        for e, act, wgt in zip(e_ok.tolist(), active.tolist(), weight.tolist()):
            m = _binade_points(rng, e, per_binade * wgt if act else settled_per_binade, dtype)
            if act:
                p, _, esub = _FORMAT[dtype]
                m = np.append(m, math.ldexp(1.0, e + 1) - math.ldexp(1.0, max(e - p + 1, esub)))
            with np.errstate(over="ignore"):
                x = (a + s * m).astype(dtype).astype(np.float64)
            pts.append(x[np.isfinite(x) & (x >= lo_d) & (x <= hi_d)])
    x = np.unique(np.concatenate(pts)).astype(dtype) if pts else np.zeros(0, dtype)
    return x
