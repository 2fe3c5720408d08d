"""The slow NumPy reference of the Dask path's per-chunk statistics (formerly
fastact/_chunk_stats.py, now the C stages of src_c/reductions/fa_chunk_stats.h): kept here
as the test's straightforward reference (tests/test_chunk_stats.py), not in the package.

Each chunk is a C-contiguous (outer, n, inner) block x3 reduced along axis 1:
  row_max           M_c (exact), the count of kept entries, +inf signs;
  sum_exp_shifted   S_c = sum of w e^(x - M_c) as a double-double (hi, lo) -- or, with
                    exact=True and shift 0, S0_c to ~2^-100 (dd_exp);
  rescale, dd_sum   the combine: S_c e^(M_c - M), M_c - M exact into a double-double exp;
  logsumexp_from_stats, softmax_from_stats   the results from the combined statistics.
Conventions: mask3 None or bool of x3's shape (True = kept); b3 None or weights (b == 0
leaves the entry out); statistics float64 arrays of shape (outer, inner).
"""
import numpy as np

_F64 = np.float64
_BLOCK = 1 << 20        # elements per NumPy block: bounds the float64 temporaries (8 MB each)
                        # (bigger blocks: fewer NumPy calls, each a GIL hand-off in a Dask worker)

# ln 2 in pieces of 32, 40 and 53 significant bits (k * the first two is exact for |k| < 2^13)
_LN2_1 = float.fromhex("0x1.62e42ff000000p-1")
_LN2_2 = float.fromhex("-0x1.718432a1b0000p-35")
_LN2_3 = float.fromhex("-0x1.c4c67fc0d0951p-76")   # ln 2 - (_LN2_1 + _LN2_2 + _LN2_3) ~ 7e-40 (mpmath)
_INV_LN2 = 1.4426950408889634
# 1/j! as double-doubles, j = 0 .. 12
_INV_FACT = []
for _j in range(13):
    from fractions import Fraction as _Fr
    import math as _math
    _f = _Fr(1, _math.factorial(_j))
    _h = float(_f)
    _INV_FACT.append((_h, float(_f - _Fr(_h))))
del _j, _f, _h, _Fr, _math


# ---- double-double arithmetic, element-wise on float64 arrays ---------------------------------
def two_sum(a, b):
    """s + e == a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a, b):
    """s + e == a + b exactly when |a| >= |b| (Dekker)."""
    s = a + b
    return s, b - (s - a)


def _split(a):
    c = 134217729.0 * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a, b):
    """p + e == a * b exactly (Dekker's product; NumPy has no fma)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def dd_add(ah, al, bh, bl):
    s, e = two_sum(ah, bh)
    return _fast_two_sum(s, e + (al + bl))


def dd_mul(ah, al, bh, bl):
    p, e = two_prod(ah, bh)
    return _fast_two_sum(p, e + (ah * bl + al * bh))


def dd_sum(hi, lo, axis):
    """Sum of hi + lo along `axis` as a double-double (a pairwise tree of two-sums)."""
    hi = np.moveaxis(hi, axis, 0)
    lo = np.moveaxis(lo, axis, 0)
    if hi.shape[0] == 0:
        z = np.zeros(hi.shape[1:])
        return z, z.copy()
    while hi.shape[0] > 1:
        m = hi.shape[0] // 2
        s, e = two_sum(hi[:m], hi[m:2 * m])
        e += lo[:m] + lo[m:2 * m]
        if hi.shape[0] & 1:
            s0, e0 = two_sum(s[:1], hi[2 * m:])
            s[:1] = s0
            e[:1] += e0 + lo[2 * m:]
        hi, lo = s, e
    return _fast_two_sum(hi[0], lo[0])


def dd_exp(dh, dl):
    """e^(dh + dl) as a double-double, relative error ~2^-100 (for dh + dl <= 710).

    dh + dl = k ln2 + r (ln2 in three pieces), r / 256 into a degree-12 Taylor series of
    expm1 in double-double, squared back 8 times (expm1(2a) = expm1(a) (expm1(a) + 2)),
    then 2^k.  Arguments below -1070 give 0; -inf gives 0.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        dh = np.maximum(np.asarray(dh, dtype=_F64), -1070.0)
        dl = np.where(dh > -1070.0, dl, 0.0)
        dl = np.where(np.isfinite(dl), dl, 0.0)
        k = np.rint(dh * _INV_LN2)
        t = dh - k * _LN2_1                                   # exact (Cody-Waite)
        rh, rl = two_sum(t, -(k * _LN2_2))                    # k * _LN2_2 exact
        rh, rl = _fast_two_sum(rh, rl + (dl - k * _LN2_3))
        ah, al = rh * (1.0 / 256), rl * (1.0 / 256)
        qh, ql = _INV_FACT[12]
        qh, ql = np.full_like(ah, qh), np.full_like(ah, ql)
        for j in range(11, 0, -1):                            # q = sum a^(i-1)/i!, i = 1 .. 12
            qh, ql = dd_mul(qh, ql, ah, al)
            qh, ql = dd_add(qh, ql, _INV_FACT[j][0], _INV_FACT[j][1])
        mh, ml = dd_mul(qh, ql, ah, al)                       # expm1(a)
        for _ in range(8):
            ph, pl = dd_add(mh, ml, 2.0, 0.0)
            mh, ml = dd_mul(mh, ml, ph, pl)
        eh, el = dd_add(mh, ml, 1.0, 0.0)
        ki = k.astype(np.int64)
        # 2^k in two steps, so that 2^k itself never overflows or underflows early
        k1 = ki // 2
        eh = np.ldexp(np.ldexp(eh, k1), ki - k1)
        el = np.ldexp(np.ldexp(el, k1), ki - k1)
    return eh, el


# ---- block iteration ----------------------------------------------------------------------------
def _row_blocks(x3):
    """Slices of the outer axis so that a block holds about _BLOCK elements (at least one row)."""
    per_row = max(1, x3.shape[1] * x3.shape[2])
    step = max(1, _BLOCK // per_row)
    for o in range(0, x3.shape[0], step):
        yield slice(o, o + step)


def _kept(mask3, b3, sl):
    """Boolean (rows, n, inner) of the kept entries of a block, or None when all are kept."""
    kept = None if mask3 is None else mask3[sl].astype(bool, copy=False)
    if b3 is not None:
        nz = b3[sl] != 0
        kept = nz if kept is None else kept & nz
    return kept


# ---- per chunk: the max ----------------------------------------------------------------------------
def row_max(x3, mask3=None, b3=None):
    """A chunk's max: (M, count, infsign), float64 / int64 / int8 arrays of shape (outer, inner).

    M: the max of the kept entries (exact), NaN when a kept entry is NaN (or has a NaN
    weight, or is -inf with an infinite weight), -inf when none is kept.  count: the
    number of kept entries.  infsign: bit 1 set when a kept entry is +inf with a positive
    weight (or no weights), bit 2 when +inf with a negative weight.
    Combine: M by np.maximum (NaN propagates), count by +, infsign by |.

    Waits for the C entry (RED's stage 1), per dtype T in {f32, f64}:
      void fa_axis_chunk_max_<T>(const T *x, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                                 const unsigned char *mask, const T *b,
                                 double *M, int64_t *count, int8_t *infsign);
    """
    outer, n, inner = x3.shape
    M = np.full((outer, inner), -np.inf)
    count = np.zeros((outer, inner), dtype=np.int64)
    infsign = np.zeros((outer, inner), dtype=np.int8)
    if n == 0:
        return M, count, infsign
    with np.errstate(invalid="ignore"):
        for sl in _row_blocks(x3):
            x = x3[sl]
            kept = _kept(mask3, b3, sl)
            v = x
            if b3 is not None:
                w = b3[sl]
                bad = np.isnan(w) | ((x == -np.inf) & np.isinf(w))
                v = np.where(bad, np.nan, x)
            if kept is None:
                M[sl] = np.max(v, axis=1)
                count[sl] = n
                pinf = np.any(x == np.inf, axis=1)
                infsign[sl] = pinf.astype(np.int8)
            else:
                M[sl] = np.max(v, axis=1, where=kept, initial=-np.inf)
                count[sl] = np.count_nonzero(kept, axis=1)
                at_inf = kept & (x == np.inf)
                if b3 is None:
                    infsign[sl] = np.any(at_inf, axis=1).astype(np.int8)
                else:
                    w = b3[sl]
                    infsign[sl] = (np.any(at_inf & (w > 0), axis=1).astype(np.int8)
                                   | (np.any(at_inf & (w < 0), axis=1).astype(np.int8) << 1))
    return M, count, infsign


# ---- per chunk: the sum ----------------------------------------------------------------------------
def _shifted(x, shift):
    """x - shift as (dh, dl), dh + dl exact (two-sum); an entry equal to shift gives (0, 0),
    also where both are infinite."""
    xf = x.astype(_F64, copy=False)
    s = shift[:, None, :]
    dh, dl = two_sum(xf, -s)
    eq = xf == s
    dh = np.where(eq, 0.0, dh)
    dl = np.where(eq | ~np.isfinite(dl), 0.0, dl)
    return dh, dl


def _terms(x, shift, exact):
    """e^(x - shift) as (th, tl): exact=False to ~1 ULP of float64 (NumPy's exp, the error of
    x - shift carried as e * dl), exact=True to ~2^-100 (dd_exp)."""
    dh, dl = _shifted(x, shift)
    if exact:
        return dd_exp(dh, dl)
    th = np.exp(dh)
    return th, th * dl


def sum_exp_shifted(x3, shift, mask3=None, b3=None, exact=False):
    """A chunk's sum: S = sum over kept entries of w e^(x - shift) as (hi, lo), float64
    arrays of shape (outer, inner) with hi + lo the double-double sum.

    shift (outer, inner) float64: the chunk's own M (row_max) for every slice, or 0 for the
    logsumexp slices that may cancel (then exact=True).  An entry equal to the shift
    counts w (also +inf at shift +inf); e^(-inf) = 0; w = NaN or inf * e^(-inf) give NaN.
    exact=False: each term to ~1 ULP of float64 (the error of x - shift carried into the
    exp); exact=True: each term to ~2^-100 (double-double exp).  Terms are added in
    double-double.  Combine: dd_add (a tree of two-sums).

    Waits for the C entry (RED's stage 2), per dtype T:
      void fa_axis_chunk_sum_exp_<T>(const T *x, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                                     const unsigned char *mask, const T *b, const double *shift,
                                     int exact, double *hi, double *lo);
    """
    outer, n, inner = x3.shape
    hi = np.zeros((outer, inner))
    lo = np.zeros((outer, inner))
    if n == 0 or outer * inner == 0:
        return hi, lo
    shift = np.asarray(shift, dtype=_F64).reshape(outer, inner)
    if x3.dtype == np.float32 and b3 is None and not exact:
        return _sum_exp_f32(x3, shift, mask3, hi, lo)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        for sl in _row_blocks(x3):
            th, tl = _terms(x3[sl], shift[sl], exact)
            if b3 is not None:
                w = b3[sl].astype(_F64, copy=False)
                th, e = two_prod(th, w)
                finite = np.isfinite(th)
                tl = np.where(finite, e + tl * w, 0.0)
            kept = _kept(mask3, b3, sl)
            if kept is not None:
                th = np.where(kept, th, 0.0)
                tl = np.where(kept, tl, 0.0)
            h, l = dd_sum(th, tl, 1)
            hi[sl], lo[sl] = h, l
    return hi, lo


def _sum_exp_f32(x3, shift, mask3, hi, lo):
    """sum_exp_shifted for float32 data without weights, in a few NumPy calls per block: x - shift
    in float64 (exact but where |x| << |shift|, an error far below a float32 ULP of any term),
    NumPy's float64 exp (< 1 ULP of float64), the entries equal to the shift counted apart (C)
    and the others summed in float64 (T): S = C + T as a double-double, so that a dominant
    entry keeps log S = log1p(T) (logsumexp([0, -40])) to full relative accuracy."""
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        for sl in _row_blocks(x3):
            x = x3[sl].astype(_F64)
            s = shift[sl][:, None, :]
            eq = x == s
            t = np.exp(np.subtract(x, s, out=x), out=x)
            drop = eq if mask3 is None else eq | ~mask3[sl].astype(bool, copy=False)
            t[drop] = 0.0
            kept_eq = eq if mask3 is None else eq & mask3[sl].astype(bool, copy=False)
            hi[sl], lo[sl] = two_sum(np.count_nonzero(kept_eq, axis=1).astype(_F64), np.sum(t, axis=1))
    return hi, lo


# ---- the results ---------------------------------------------------------------------------------
def dd_log(hi, lo):
    """log(hi + lo) for hi > 0: log1p((hi - 1) + lo) near 1 (hi - 1 exact), else log(hi) + lo/hi."""
    with np.errstate(divide="ignore", invalid="ignore"):
        near = (hi >= 0.5) & (hi <= 2.0)
        return np.where(near, np.log1p((hi - 1.0) + lo), np.log(hi) + lo / hi)


def needs_exact(M, hi, lo, negative_w):
    """Rows of a chunk whose shift-0 exact sum S0 the logsumexp may need, given the chunk's
    own (M, S) (shift M).  The slice's logsumexp v = log(sum over all chunks of w e^x) can
    cancel to ~0 only if M < 0 (M: the slice's max, >= this chunk's) and, with no negative
    weights, only if this chunk's own log-sum-exp M + log S is below 1 (v is at least it).
    Rows with negative weights always may.  Rows with M = -inf contribute S0 = 0 exactly."""
    with np.errstate(divide="ignore", invalid="ignore"):
        own = M + dd_log(np.abs(hi), np.where(hi < 0, -lo, lo))
        return np.isfinite(M) & (negative_w | ((M < 0) & (own < 1.0)))


def rescale(M_c, hi, lo, M):
    """S_c = hi + lo relative to shift M_c, as a double-double relative to M >= M_c:
    S_c e^(M_c - M), with M_c - M exact (two-sum) into dd_exp (2^-100): no accuracy is lost
    combining chunks this way (unlike combining their log-sum-exps).  Equal shifts
    (also both infinite) keep S_c; M_c = -inf < M gives 0.  Runs on statistics only (one
    value per slice and chunk), so it stays NumPy: no C entry needed."""
    with np.errstate(invalid="ignore", over="ignore"):
        dh, dl = two_sum(M_c, -M)
        same = M_c == M
        dh = np.where(same, 0.0, np.where(np.isnan(dh), -np.inf, dh))
        dl = np.where(same | ~np.isfinite(dl), 0.0, dl)
        fh, fl = dd_exp(dh, dl)
        fh = np.where(dh == -np.inf, 0.0, fh)
        fl = np.where(dh == -np.inf, 0.0, fl)
        h, l = dd_mul(hi, lo, fh, fl)
        zero = fh == 0.0
        return np.where(zero, 0.0, h), np.where(zero | ~np.isfinite(l), 0.0, l)


def logsumexp_from_stats(M, count, infsign, hi, lo, hi0=None, lo0=None, return_sign=False):
    """logsumexp (and its sign) of slices from the combined statistics, float64.

    M, count, infsign: combined maxima; (hi, lo): S relative to M; (hi0, lo0): S with shift 0
    (exact), NaN where some chunk did not need it (needs_exact); used where |M + log S| < 1.  docs/SPEC.md section 4: NaN -> NaN;
    +inf (positive weights) -> +inf; nothing kept or all -inf -> -inf with sign 0; a
    negative total is NaN unless return_sign (then log|S| and sign -1).

    Waits for the C entry (the in-memory finish, fa_sm_finish + fa_sm_lse_value on a slice's
    statistics):
      void fa_axis_lse_from_stats(ptrdiff_t m, const double *M, const int64_t *count,
                                  const int8_t *infsign, const double *hi, const double *lo,
                                  const double *hi0, const double *lo0, double *out, double *sign);
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sign = np.sign(hi)
        ahi, alo = np.abs(hi), np.where(hi < 0, -lo, lo)
        v = M + dd_log(ahi, alo)
        if hi0 is not None:         # the exact shift-0 sum, where v = M + log S cancels
            use0 = np.isfinite(hi0) & (hi0 != 0) & (np.abs(v) < 1.0) & (np.sign(hi0) == sign)
            v = np.where(use0, dd_log(np.abs(hi0), np.where(hi0 < 0, -lo0, lo0)), v)
        v = np.where(hi == 0, -np.inf, v)
        v = np.where(np.isnan(hi), np.nan, v)
        # slices whose max is not finite
        pinf = M == np.inf
        v = np.where(pinf, np.where(infsign == 3, np.nan, np.inf), v)
        sign = np.where(pinf, np.where(infsign == 3, np.nan, np.where(infsign == 2, -1.0, 1.0)), sign)
        ninf = M == -np.inf
        v = np.where(ninf, -np.inf, v)
        sign = np.where(ninf, 0.0, sign)
        nan = np.isnan(M)
        v = np.where(nan, np.nan, v)
        sign = np.where(nan | np.isnan(v), np.nan, sign)
        if not return_sign:
            v = np.where(sign < 0, np.nan, v)
    return v, sign


def softmax_from_stats(x3, M, count, hi, lo, mask3=None, log=False):
    """Output pass of a chunk: softmax (or log_softmax) entries of x3 given the slice's M and
    S = hi + lo (relative to M), in x3's dtype: y = e^(x - M) / S, or
    (x - M) - log S, with x - M exact (two-sum) into the exp.  Never exp(x - lse).

    docs/SPEC.md section 4: masked entries give 0 (log: -inf), also in special slices; a slice
    with NaN or +inf among its kept entries, or of only -inf (count > 0), gives NaN at its
    kept entries; a fully masked slice (count == 0) gives 0 / -inf.

    Waits for the C entry (RED's output stage, the in-memory fa_sm_row_out from (M, S)):
      void fa_axis_chunk_softmax_<T>(const T *x, T *y, ptrdiff_t outer, ptrdiff_t n,
                                     ptrdiff_t inner, const unsigned char *mask,
                                     const double *M, const int64_t *count,
                                     const double *hi, const double *lo, int log);
    """
    outer, n, inner = x3.shape
    y3 = np.empty(x3.shape, dtype=x3.dtype)
    if x3.size == 0:
        return y3
    M = np.asarray(M, dtype=_F64).reshape(outer, inner)
    count = np.asarray(count).reshape(outer, inner)
    hi = np.asarray(hi, dtype=_F64).reshape(outer, inner)
    lo = np.asarray(lo, dtype=_F64).reshape(outer, inner)
    fill = -np.inf if log else 0.0
    with np.errstate(invalid="ignore", over="ignore", under="ignore", divide="ignore"):
        special = ~np.isfinite(M) | ~np.isfinite(hi)
        bad = special & ~((M == -np.inf) & (count == 0))      # NaN slices (fully masked: fill)
        if log:
            lh = dd_log(hi, lo)     # |y| = (M - x) + log S >= log S: lh's rounding is < 1 ULP of y
        else:
            inv = 1.0 / hi          # 1/S = inv (1 + r), r from the exact residual 1 - S inv
        f32 = x3.dtype == np.float32
        for sl in _row_blocks(x3):
            x = x3[sl]
            if f32:            # float64 arithmetic: every step far below a float32 ULP
                d = np.subtract(x.astype(_F64), M[sl][:, None, :])
                y = np.subtract(d, lh[sl][:, None, :], out=d) if log else \
                    np.multiply(np.exp(d, out=d), inv[sl][:, None, :], out=d)
                if bad[sl].any():
                    y = np.where(bad[sl][:, None, :], np.nan, y)
                if mask3 is not None:
                    y = np.where(mask3[sl].astype(bool, copy=False), y, fill)
                y3[sl] = y
                continue
            dh, dl = _shifted(x, M[sl])
            if log:
                yh, yl = two_sum(dh, -lh[sl][:, None, :])
                y = np.where(np.isfinite(yh), yh + (yl + dl), yh)
            else:
                p, pe = two_prod(hi[sl][:, None, :], inv[sl][:, None, :])
                r = ((1.0 - p) - pe - lo[sl][:, None, :] * inv[sl][:, None, :]) * inv[sl][:, None, :]
                e = np.exp(dh)
                y = e * inv[sl][:, None, :] + e * (r + dl * inv[sl][:, None, :])
            y = np.where(bad[sl][:, None, :], np.nan, y)
            if mask3 is not None:
                y = np.where(mask3[sl].astype(bool, copy=False), y, fill)
            elif (count[sl] == 0).any():
                y = np.where((count[sl] == 0)[:, None, :], fill, y)
            y3[sl] = y
    return y3
