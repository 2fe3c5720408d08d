"""logsumexp, softmax, log_softmax: accuracy against a high-precision reference, SciPy
semantics (axes, keepdims, b, return_sign, where, out), special values and errors.

References: mpmath at 50 digits for short rows and the special cases; for long rows
x87 long double (64-bit mantissa, 11 bits more than float64: an exp/log error of
~2^-63 relative), which is checked against mpmath in test_longdouble_reference.
"""
import zlib

import numpy as np
import pytest
from numpy.exceptions import AxisError

import fastact as fa
from ulp import log_probability_rows, ulp_errors

mpmath = pytest.importorskip("mpmath")
scipy_special = pytest.importorskip("scipy.special")

F32, F64 = np.float32, np.float64
LSE_ULP, SOFTMAX_ULP = 2.0, 4.0
LONGDOUBLE_OK = np.finfo(np.longdouble).nmant >= 63


# ---------------------------------------------------------------- references
def mp_reference(x, axis=-1):
    """(lse, softmax, log_softmax) of the float64 values of x along `axis`, each as a
    (hi, lo) double-double pair, from mpmath at 50 digits."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    rows = x.reshape(-1, x.shape[-1])
    lse_hi, lse_lo = np.empty(len(rows)), np.empty(len(rows))
    sm_hi, sm_lo = np.empty(rows.shape), np.empty(rows.shape)
    ls_hi, ls_lo = np.empty(rows.shape), np.empty(rows.shape)
    with mpmath.workdps(50):
        for r, row in enumerate(rows):
            vals = [mpmath.mpf(float(v)) for v in row]
            m = max(vals)                 # l = log(C) + log1p(others / C): a dominant entry's
            count = sum(1 for v in vals if v == m)      # log_softmax needs l to full relative precision
            l = mpmath.log(count) + mpmath.log1p(mpmath.fsum(mpmath.exp(v - m) for v in vals if v != m) / count)
            lse = m + l
            lse_hi[r] = float(lse)
            lse_lo[r] = float(lse - mpmath.mpf(lse_hi[r]))
            for k, v in enumerate(vals):
                ls = (v - m) - l
                s = mpmath.exp(ls)
                sm_hi[r, k] = float(s)
                sm_lo[r, k] = float(s - mpmath.mpf(sm_hi[r, k]))
                ls_hi[r, k] = float(ls)
                ls_lo[r, k] = float(ls - mpmath.mpf(ls_hi[r, k]))
    shape = x.shape
    back = lambda a: np.moveaxis(a.reshape(shape), -1, axis)   # noqa: E731
    return ((lse_hi.reshape(shape[:-1]), lse_lo.reshape(shape[:-1])),
            (back(sm_hi), back(sm_lo)), (back(ls_hi), back(ls_lo)))


def ld_reference(x, axis=-1):
    """The same from long double arithmetic (for long rows; needs a 64-bit mantissa)."""
    xl = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1).astype(np.longdouble)
    m = xl.max(axis=-1, keepdims=True)
    at_max = xl == m
    count = at_max.sum(axis=-1, keepdims=True).astype(np.longdouble)
    others = np.sum(np.where(at_max, 0, np.exp(xl - m)), axis=-1, keepdims=True)
    l = np.log(count) + np.log1p(others / count)   # log1p keeps a dominant entry's l accurate
    lse = m + l
    ls = (xl - m) - l            # no cancellation: x - m <= 0 and l >= 0
    sm = np.exp(ls)

    def split(a):
        hi = a.astype(np.float64)
        return hi, (a - hi.astype(np.longdouble)).astype(np.float64)

    back = lambda a: np.moveaxis(a, -1, axis)   # noqa: E731
    (lh, ll), (sh, sl), (qh, ql) = split(lse[..., 0]), split(sm), split(ls)
    return (lh, ll), (back(sh), back(sl)), (back(qh), back(ql))


def max_ulps(x, axis, dtype, reference=mp_reference):
    """Max ULP error of fastact's logsumexp, softmax, log_softmax of x along axis."""
    (lh, ll), (sh, sl), (qh, ql) = reference(x, axis)
    return (ulp_errors(fa.logsumexp(x, axis=axis), lh, ll, dtype).max(),
            ulp_errors(fa.softmax(x, axis=axis), sh, sl, dtype).max(),
            ulp_errors(fa.log_softmax(x, axis=axis), qh, ql, dtype).max())


def assert_accurate(x, axis, dtype, reference=mp_reference):
    lse, sm, ls = max_ulps(x, axis, dtype, reference)
    assert lse <= LSE_ULP, f"logsumexp {lse} ULP"
    assert sm <= SOFTMAX_ULP, f"softmax {sm} ULP"
    assert ls <= SOFTMAX_ULP, f"log_softmax {ls} ULP"


# ---------------------------------------------------------------- accuracy
@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
def test_longdouble_reference():
    x = np.random.default_rng(1).uniform(-50, 50, (3, 40))
    for (a, b), (c, d) in zip(ld_reference(x), mp_reference(x)):
        assert np.all(np.abs((a - c) + (b - d)) <= 2.0 ** -56 * np.maximum(np.abs(c), 1e-300))


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 17, 33, 100, 257])
def test_ulp_short_rows(isa, dtype, n):
    x = np.random.default_rng(n).uniform(-50, 50, (4, n)).astype(dtype)
    assert_accurate(x, -1, dtype)


@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [4095, 4097, 10000])
def test_ulp_chunk_boundaries(isa, dtype, n):
    x = np.random.default_rng(n).uniform(-50, 50, (2, n)).astype(dtype)
    assert_accurate(x, -1, dtype, ld_reference)


@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [100_000, 1_000_000])
def test_ulp_long_rows(dtype, n):
    x = np.random.default_rng(7).uniform(-50, 50, (1, n)).astype(dtype)
    assert_accurate(x, -1, dtype, ld_reference)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_ulp_narrow_ranges(isa, dtype):
    """Rows near 0 (large sums of similar terms), a peaked row and a wide one."""
    rng = np.random.default_rng(3)
    rows = [rng.normal(0, 1, 64), rng.uniform(-1, 1, 64) * 1e-3, np.r_[30.0, rng.uniform(-60, 0, 63)],
            rng.uniform(-300, 300, 64), np.full(64, 3.0), np.r_[0.0, np.full(63, -20.0)]]
    x = np.array(rows).astype(dtype)
    assert_accurate(x, -1, dtype)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_ulp_row_offsets(isa, dtype):
    """Rows, and columns (axis 0), on both sides of the float32 e^x pass's range (max <= 64,
    sums above 2^-100, S >= 4 for the logs, M in [-80, 64] for softmax) and of its edges,
    with a dominant entry whose partner term sits near the bottom of that range (log1p(T)
    needs T's relative accuracy)."""
    rng = np.random.default_rng(11)
    rows = [b + rng.normal(0, 3, 300) for b in (-200.0, -95.0, -78.0, -40.0, 0.0, 55.0, 61.0, 70.0, 300.0)]
    rows += [np.r_[b, np.full(299, b - d)] for b, d in ((-50.0, 36.9), (-50.0, 40.0), (-30.0, 59.0),
                                                         (64.0, 20.0), (64.5, 20.0), (-86.9, 0.05))]
    rows += [np.r_[64.0, rng.uniform(40.0, 64.0, 299)], np.r_[-87.0, rng.uniform(-87.0, -86.0, 299)]]
    x = np.array(rows).astype(dtype)
    assert_accurate(x, -1, dtype)
    for cols in (x.T.copy(), x[[0, 3, 4]].T.copy(), x[[4, 5]].T.copy(), x[[4, 9]].T.copy(), x[[4, 11]].T.copy()):
        assert_accurate(cols, 0, dtype)       # blocks of columns that stay in the e^x pass or leave it


@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
@pytest.mark.parametrize("dtype", [F32, F64])
def test_ulp_long_row_offsets(isa, dtype):
    """Rows longer than the stored-exp path (softmax recomputes each exp in a second pass),
    with maxima inside and outside the float32 e^x range, one with -inf entries."""
    rng = np.random.default_rng(12)
    x = np.array([b + rng.normal(0, 4, 70_000) for b in (-110.0, -30.0, 0.0, 70.0)]).astype(dtype)
    x[2, ::7] = -np.inf
    (lh, ll), (sh, sl), (qh, ql) = ld_reference(np.where(np.isinf(x), -1e4, x))
    assert ulp_errors(fa.logsumexp(x, axis=-1), lh, ll, dtype).max() <= LSE_ULP
    assert ulp_errors(fa.softmax(x, axis=-1), sh, sl, dtype).max() <= SOFTMAX_ULP
    q = fa.log_softmax(x, axis=-1)
    assert np.all(q[np.isinf(x)] == -np.inf)
    assert ulp_errors(q[~np.isinf(x)], qh[~np.isinf(x)], ql[~np.isinf(x)], dtype).max() <= SOFTMAX_ULP


ROW_KINDS = {   # what real code feeds these functions (benchmarks/bench_reductions.py)
    "normal3": lambda r, s: r.normal(0, 3, s),
    "normal3-20": lambda r, s: r.normal(-20, 3, s),
    "normal3+100": lambda r, s: r.normal(100, 3, s),
    "far_below": lambda r, s: r.normal(-250, 3, s),
    "far_above": lambda r, s: r.normal(330, 3, s),
    "beyond": lambda r, s: r.normal(400, 3, s),          # past the float32 lanes' range
    "peaked": lambda r, s: r.normal(0, 3, s) + 12 * (np.arange(s[1]) == 3),
    "peaked30": lambda r, s: r.normal(0, 1, s) + 30 * (np.arange(s[1]) == 0),
    "normalised": lambda r, s: fa.log_softmax(r.normal(0, 3, s), axis=-1),
    "minus_inf": lambda r, s: np.where(r.random(s) < 0.2, -np.inf, r.normal(0, 3, s)),
    "spread": lambda r, s: r.uniform(-120, 60, s),    # subnormal softmax outputs
}


def assert_columns_within_bounds(x, xt, dtype, lse_ref, softmax_ref, log_softmax_ref, mp_lse=False):
    """The three reductions of xt (x stored transposed) along axis 0 against x's row references;
    mp_lse: float64 normalised columns (|lse| ~ 1e-17), checked against mpmath to 2^-80
    absolute where not to the ULP bound."""
    (lh, ll), (sh, sl), (qh, ql) = lse_ref, softmax_ref, log_softmax_ref
    got = fa.logsumexp(xt, axis=0)
    if mp_lse:
        lh, ll = _mp_lse_rows(x)
        assert ((np.abs((got - lh) - ll) <= 2.0 ** -80) | (ulp_errors(got, lh, ll, dtype) <= LSE_ULP)).all()
    else:
        assert ulp_errors(got, lh, ll, dtype).max() <= LSE_ULP
    assert ulp_errors(fa.softmax(xt, axis=0).T, sh, sl, dtype).max() <= SOFTMAX_ULP
    q = fa.log_softmax(xt, axis=0).T
    fin = np.isfinite(qh)
    assert np.all(q[~fin] == -np.inf)
    assert ulp_errors(q[fin], qh[fin], ql[fin], dtype).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("kind", list(ROW_KINDS))
@pytest.mark.parametrize("n", [2, 64, 700])
def test_ulp_column_kinds(isa, dtype, kind, n):
    """The row kinds as columns (axis 0 of 131 columns: whole column blocks of every variant
    and a partial one), within the bounds: the float32 column blocks take e^x itself for
    softmax and a max pass then e^(x - M) for the logs, and must not depend on where the
    columns lie either (n = 64 and 700: dominant entries are common)."""
    rng = np.random.default_rng(zlib.crc32(f"columns {kind} {n}".encode()))
    x = ROW_KINDS[kind](rng, (131, n)).astype(dtype)
    x[:, 0] = np.where(np.isinf(x[:, 0]), 0.0, x[:, 0])     # no all -inf column
    xt = np.ascontiguousarray(x.T)
    with np.errstate(invalid="ignore"):
        (lh, ll), (sh, sl), (qh, ql) = ld_reference(x)
    assert_columns_within_bounds(x, xt, dtype, (lh, ll), (sh, sl), (qh, ql),
                                 mp_lse=kind == "normalised" and dtype == F64)
    where = rng.random(x.shape) < 0.8                        # where= on the same columns
    where[:, 1 % n] = True
    xm = np.where(where, x, -np.inf)
    with np.errstate(invalid="ignore"):
        (lh, ll), (sh, sl), (qh, ql) = ld_reference(xm)
    wt = np.ascontiguousarray(where.T)
    got = fa.logsumexp(xt, axis=0, where=wt)
    if kind == "normalised" and dtype == F64:
        lh, ll = _mp_lse_rows(x, where=where)
        assert ((np.abs((got - lh) - ll) <= 2.0 ** -80) | (ulp_errors(got, lh, ll, dtype) <= LSE_ULP)).all()
    else:
        assert ulp_errors(got, lh, ll, dtype).max() <= LSE_ULP
    sm = fa.softmax(xt, axis=0, where=wt).T
    assert np.all(sm[~where] == 0)
    assert ulp_errors(sm[where], sh[where], sl[where], dtype).max() <= SOFTMAX_ULP
    q = fa.log_softmax(xt, axis=0, where=wt).T
    fin = np.isfinite(qh) & where
    assert np.all(q[~where] == -np.inf)
    assert ulp_errors(q[fin], qh[fin], ql[fin], dtype).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("n", [2, 64, 700])
def test_float64_raw_softmax_columns(isa, n, mixed):
    """float64 softmax along axis 0 at a row stride of a multiple of 1 KB (256 columns) sums e^x
    itself in one read (fa_sm64_cols_softmax_raw) where every column allows it, and declines a
    block otherwise (maxima above 700, entries below M - 650 or -700, NaN) to the three-read
    path: every row kind (or all of them side by side), with and without where=, within the
    bound; out=x (never raw) within the bound too, and a declined block's neighbours too."""
    rng = np.random.default_rng(zlib.crc32(f"raw {n} {mixed}".encode()))
    kinds = list(ROW_KINDS.values())
    if mixed:
        x = np.stack([kinds[k % len(kinds)](rng, (1, n))[0] for k in range(256)])
    else:
        x = np.concatenate([kind(rng, (16, n)) for kind in kinds] + [rng.normal(0, 3, (256 - 16 * len(kinds), n))])
    x = x.astype(F64)
    x[:, 0] = np.where(np.isinf(x[:, 0]), 0.0, x[:, 0])
    x[200:208] += 590.0 + 30 * (np.arange(8) % 2)[:, None]   # maxima past 600: a declined block
    x[210:218, 0] = -900.0                                 # an entry below -700
    xt = np.ascontiguousarray(x.T)
    with np.errstate(invalid="ignore"):
        _, (sh, sl), _ = ld_reference(x)
    got = fa.softmax(xt, axis=0)
    assert ulp_errors(got.T, sh, sl, F64).max() <= SOFTMAX_ULP
    y = xt.copy()
    assert fa.softmax(y, axis=0, out=y) is y
    assert ulp_errors(y.T, sh, sl, F64).max() <= SOFTMAX_ULP
    where = rng.random(x.shape) < 0.8
    where[:, 1 % n] = True
    with np.errstate(invalid="ignore"):
        _, (sh, sl), _ = ld_reference(np.where(where, x, -np.inf))
    sm = fa.softmax(xt, axis=0, where=np.ascontiguousarray(where.T)).T
    assert np.all(sm[~where] == 0)
    assert ulp_errors(sm[where], sh[where], sl[where], F64).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("seed", ["c peaked 700", "columns peaked 700", "c peaked 1500"])
def test_column_softmax_float32_peaked_bound(isa, seed):
    """float32 column softmax of peaked columns (one entry +12): the output e^x (p1 + p2) once
    reached 4.05 ULP on the scalar and SSE2 variants (e^x rounded, then two more roundings in
    the product without FMA; the first seed); e^x is now never rounded on its own."""
    n = int(seed.split()[-1])
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    x = ROW_KINDS["peaked"](rng, (131, n)).astype(F32)
    _, (sh, sl), _ = ld_reference(x)
    got = fa.softmax(np.ascontiguousarray(x.T), axis=0).T
    assert ulp_errors(got, sh, sl, F32).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("dtype", [F32, F64])
def test_ulp_tall_columns(isa, dtype):
    """Columns of 20000 entries (blocks far beyond L2) within the bounds on every variant.  (The
    float64 generic chunked code, which took them before, reached 4.13 ULP in softmax on SSE2
    for one draw of 70 such columns; these seeds stay below 3.4 on it.)"""
    rng = np.random.default_rng(45)
    x = rng.normal(0, 3, (33, 20_000)).astype(dtype)
    (lh, ll), (sh, sl), (qh, ql) = ld_reference(x)
    xt = np.ascontiguousarray(x.T)
    assert ulp_errors(fa.logsumexp(xt, axis=0), lh, ll, dtype).max() <= LSE_ULP
    assert ulp_errors(fa.softmax(xt, axis=0).T, sh, sl, dtype).max() <= SOFTMAX_ULP
    assert ulp_errors(fa.log_softmax(xt, axis=0).T, qh, ql, dtype).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("c", [1.0, 100.0, -100.0, 300.0])
def test_lone_finite_entry_gives_exactly_one(isa, dtype, c):
    """softmax of a slice with one finite entry is exactly [0, ..., 1] in the column blocks
    (summing e^x, or storing their shifted terms: the maxima's output is 1/(C + T) or tau/U
    itself) and the short float32 rows.  The per-row code (float64 rows; float32 rows on the
    scalar variant, where no short-row groups exist) scales a stored term: 1 ULP below 1 for
    some maxima without FMA (left as it is: within the bound, noted for a later change)."""
    x = np.full((5, 70), -np.inf, dtype)
    x[3] = c
    want = (x == c).astype(dtype)
    np.testing.assert_array_equal(fa.softmax(x, axis=0), want)
    np.testing.assert_array_equal(fa.softmax(x.T, axis=1), want.T)
    rows = fa.softmax(np.ascontiguousarray(x.T), axis=1)
    if dtype == F64 or isa == "scalar":
        assert np.all(np.abs(rows - want.T) <= np.finfo(dtype).epsneg)
    else:
        np.testing.assert_array_equal(rows, want.T)
    q = fa.log_softmax(np.ascontiguousarray(x.T), axis=1)
    np.testing.assert_array_equal(q, np.where(want.T == 1, 0.0, -np.inf).astype(dtype))


@pytest.mark.parametrize("dtype", [F32, F64])
def test_in_place_columns_with_nan(isa, dtype):
    """out=x on columns whose block holds a NaN (maxima far above 64: the float32 softmax block
    that would store its terms into y while summing, then be declined for the NaN): the NaN
    column is NaN, the others as computed out of place, bit for bit."""
    rng = np.random.default_rng(44)
    x = rng.normal(100, 3, (64, 131)).astype(dtype)
    x[1, 70] = np.nan
    for f in (fa.softmax, fa.log_softmax):
        want = f(x, axis=0)
        y = x.copy()
        with np.errstate(invalid="ignore"):
            assert f(y, axis=0, out=y) is y
        np.testing.assert_array_equal(y, want)
        assert np.isnan(y[:, 70]).all() and not np.isnan(np.delete(y, 70, axis=1)).any()
        _, (sh, sl), (qh, ql) = ld_reference(np.delete(x, 70, axis=1).T)
        h, lo = (sh, sl) if f is fa.softmax else (qh, ql)
        assert ulp_errors(np.delete(y, 70, axis=1).T, h, lo, dtype).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [2, 64, 700])
def test_ulp_mixed_column_blocks(isa, dtype, n):
    """Every row kind in every column block (column k is kind k mod 11): a block's choices
    (the float64 blocks' clamp mode for any -inf, the unshifted logsumexp only where every
    column's max allows it, a block declined for one column) must hold each column to its
    bound whatever its neighbours are."""
    rng = np.random.default_rng(zlib.crc32(f"mixed {n}".encode()))
    kinds = list(ROW_KINDS.values())
    x = np.stack([kinds[k % len(kinds)](rng, (1, n))[0] for k in range(131)]).astype(dtype)
    x[:, 0] = np.where(np.isinf(x[:, 0]), 0.0, x[:, 0])
    xt = np.ascontiguousarray(x.T)
    with np.errstate(invalid="ignore"):
        (lh, ll), (sh, sl), (qh, ql) = ld_reference(x)
    assert_columns_within_bounds(x, xt, dtype, (lh, ll), (sh, sl), (qh, ql), mp_lse=dtype == F64)
    for f in (fa.softmax, fa.log_softmax):     # out=x: every block read before it is written
        y = xt.copy()
        assert f(y, axis=0, out=y) is y
        np.testing.assert_array_equal(y, f(xt, axis=0))


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [2, 7, 16, 17, 24, 40, 48, 64, 79, 80, 81, 200, 256])
def test_short_rows_do_not_depend_on_their_neighbours(isa, dtype, n):
    """Short rows go a group at a time (float32: in closed form in float64 lanes below a
    vector's width, each row in its own vectors up to 80 entries, 256 for logsumexp; rows
    below the logsumexp tier's bound queued across groups): a row's bits must be
    those of the row alone, whatever rows share its group (threads and Dask chunks cut the
    rows anywhere), including the rows a group leaves to the per-row code (NaN, +inf,
    cancelling logsumexp, a logit gap above 41) and those it sums as x - M (maxima beyond 340
    or -260), and the same in place;
    every row within the bounds."""
    rng = np.random.default_rng(zlib.crc32(f"short {n}".encode()))
    kinds = list(ROW_KINDS.values())
    x = np.stack([kinds[r % len(kinds)](rng, (1, n))[0] for r in range(70)]).astype(dtype)
    x[5, n // 2] = np.nan
    x[9, 0] = np.inf
    x[13] = -np.inf
    x[17, :] = -60.0
    x[17, n - 1] = 0.0                                  # gap 60: l ~ e^-60
    if n > 2:     # maxima in (-(log n + 2), 0), summed unshifted first: a sum >= 4 (n >= 8)
        x[21] = -0.5 - 0.25 * np.arange(n) / n          # and one below 4 that does not cancel
        x[25] = rng.standard_normal(n) - 3.0 - np.log(n)
    fin = ~np.isnan(x).any(axis=1) & ~(x == np.inf).any(axis=1) & (x > -np.inf).any(axis=1)
    with np.errstate(all="ignore"):                     # the reference's NaN and -inf rows
        (lh, ll), (sh, sl), (qh, ql) = ld_reference(np.where(np.isinf(x) & (x < 0), -1e4, x))
    for f in (fa.softmax, fa.log_softmax, fa.logsumexp):
        full = f(x, axis=-1)
        for off in (1, 3, 16, 17, 33):
            np.testing.assert_array_equal(f(x[off:], axis=-1), full[off:])
        for r in (0, 5, 9, 13, 17, 69):
            np.testing.assert_array_equal(f(x[r:r + 1], axis=-1), full[r:r + 1])
        if f is not fa.logsumexp and n <= {"sse2": 40, "avx2": 80, "avx512": 80}.get(isa, 0):
            # out=x in the groups: each row read before it is written (the per-row code takes
            # another path in place, whose bits differ near the smallest normal: within the
            # bounds, checked below)
            y = x.copy()
            assert f(y, axis=-1, out=y) is y
            np.testing.assert_array_equal(y, full)
    got = fa.logsumexp(x, axis=-1)[fin]
    if dtype == F64 or n == 2:   # normalised rows: |lse| ~ 1e-17 (float64), and float32 rows of
        # 2 at ~1e-8 or below, where the long double reference runs out: 2 ULP, or 2^-80
        # absolute (fa_lse_exact.h), against mpmath
        lh, ll = _mp_lse_rows(np.where(np.isinf(x) & (x < 0), -1e4, x)[fin])
        assert ((np.abs((got - lh) - ll) <= 2.0 ** -80) | (ulp_errors(got, lh, ll, dtype) <= LSE_ULP)).all()
    else:
        assert ulp_errors(got, lh[fin], ll[fin], dtype).max() <= LSE_ULP
    assert ulp_errors(fa.softmax(x, axis=-1)[fin], sh[fin], sl[fin], dtype).max() <= SOFTMAX_ULP
    y = x.copy()
    assert ulp_errors(fa.softmax(y, axis=-1, out=y)[fin], sh[fin], sl[fin], dtype).max() <= SOFTMAX_ULP
    q, keep = fa.log_softmax(x, axis=-1)[fin], x[fin] > -np.inf
    assert np.all(q[~keep] == -np.inf)
    assert ulp_errors(q[keep], qh[fin][keep], ql[fin][keep], dtype).max() <= SOFTMAX_ULP


def _short_rows_errors(x, dtype, near, most):
    """logsumexp, softmax, log_softmax of the rows of x (the first five: specials, not
    measured); the logsumexp rows below `near` in magnitude (at most `most` of them) within
    2 ULP or 2^-80 absolute of mpmath (the unshifted tiers), and the max ULP errors of the
    others against long double, as (lse, softmax, log_softmax, lse reference, errors)"""
    with np.errstate(all="ignore"):                      # the special rows' reference is not used
        (lh, ll), (sh, sl), (qh, ql) = ld_reference(x.astype(F64))
    lse, sm, lsm = fa.logsumexp(x, axis=-1), fa.softmax(x, axis=-1), fa.log_softmax(x, axis=-1)
    fin = np.isfinite(lh)
    fin[:5] = False
    exact = fin & (np.abs(lh) < near)
    ex = np.flatnonzero(exact)[:most]
    mh, ml = _mp_lse_rows(x[ex])
    assert ((np.abs((lse[ex] - mh) - ml) <= 2.0 ** -80) | (ulp_errors(lse[ex], mh, ml, dtype) <= LSE_ULP)).all()
    rest, ok = fin & ~exact, np.isfinite(sh).all(axis=1)
    ok[:5] = False
    keep = np.isfinite(qh[ok])
    errs = (ulp_errors(lse[rest], lh[rest], ll[rest], dtype).max(), ulp_errors(sm[ok], sh[ok], sl[ok], dtype).max(),
            ulp_errors(lsm[ok][keep], qh[ok][keep], ql[ok][keep], dtype).max())
    return lse, sm, lsm, lh, errs


CLOSED_FORM_BELOW = {"sse2": 4, "avx2": 8, "avx512": 16}   # a vector of float32 lanes


@pytest.mark.parametrize("n", [2, 3, 4, 7, 8, 15])
def test_float32_short_rows_in_closed_form(isa, n):
    """float32 rows shorter than a vector (reductions/fa_short_closed.h) are computed in
    float64 lanes and rounded once: within about half an ULP on the variants where such rows
    exist (the others: the rows layout or the per-row code, the general bounds), on every row
    kind, maxima beyond the logsumexp shift's edges (512, -(log n + 2)) included; logsumexp rows
    that cancel below 2^-24 against mpmath (the unshifted tiers: 2 ULP, or 2^-80 absolute),
    more than 200 of them in the double-double branch (|v| < 2^-31); specials, where= (a
    left-out entry reads as -inf, a row left out whole), in place, and each row's bits its
    own."""
    closed = n < CLOSED_FORM_BELOW.get(isa, 0)
    rng = np.random.default_rng(zlib.crc32(f"closed form {n}".encode()))
    lp = np.log(rng.dirichlet(np.ones(n), 6000)).astype(F32)        # normalised: |v| ~ 2^-22 .. 2^-40
    nudged = lp.copy()                                               # |v| ~ 2^-26 .. 2^-16
    nudged[:, 0] = (nudged[:, 0].view(np.int32) + rng.integers(-40, 40, len(lp)).astype(np.int32)).view(F32)
    parts = [lp, nudged] + [gen(rng, (2001, n)).astype(F32) for gen in ROW_KINDS.values()]
    parts += [rng.normal(c, 3, (501, n)).astype(F32) for c in (600.0, -1000.0, -(np.log(n) + 2.0))]
    x = np.concatenate(parts)
    x[:5] = -np.inf
    x[0, 0], x[1, 0], x[3, -1] = np.nan, np.inf, 3.0      # NaN, +inf, all -inf, one finite entry
    x[4] = 2.0                                            # a tie everywhere
    lse, sm, lsm, lh, errs = _short_rows_errors(x, F32, 2.0 ** -24, 2500)
    assert ((np.abs(lh) < 2.0 ** -31) & np.isfinite(lh)).sum() > 200     # the double-double branch runs
    if closed:
        assert max(errs) <= 0.51, errs
    else:
        assert errs[0] <= LSE_ULP and max(errs[1:]) <= SOFTMAX_ULP, errs
    assert np.isnan(lse[0]) and lse[1] == np.inf and lse[2] == -np.inf and lse[3] == 3.0
    assert fa.logsumexp(x[2:3], axis=-1, return_sign=True)[1][0] == 0.0
    assert sm[3].tolist() == [0.0] * (n - 1) + [1.0] and lsm[3].tolist() == [-np.inf] * (n - 1) + [0.0]
    assert np.isnan(sm[:3]).all() and np.isnan(lsm[:2]).all()
    assert (sm[4] == np.float32(1.0 / n)).all() and (lsm[4] == np.float32(-np.log(n))).all()
    for f, full in ((fa.softmax, sm), (fa.log_softmax, lsm), (fa.logsumexp, lse)):
        for off in (1, 7, 31, 33):                       # other neighbours in the group: same bits
            assert f(x[off:], axis=-1).tobytes() == full[off:].tobytes(), f.__name__
        assert f(x[6001:6002], axis=-1).tobytes() == full[6001:6002].tobytes()   # one row alone
        if f is not fa.logsumexp and closed:      # (the per-row code's in-place path rounds
            y = x.copy()                            # differently near the smallest normal)
            assert f(y, axis=-1, out=y) is y
            assert y.tobytes() == full.tobytes(), f.__name__
    # where=: a left-out entry reads as -inf; a row left out whole gives softmax 0, log_softmax
    # -inf, logsumexp -inf with sign 0
    w = rng.uniform(size=x.shape) >= 0.2
    w[5] = False
    xm = np.where(w, x, np.float32(-np.inf))
    some = w.any(axis=1) & np.isfinite(np.where(w, x, -1.0)).all(axis=1)
    with np.errstate(all="ignore"):
        for f in (fa.softmax, fa.log_softmax, fa.logsumexp):
            got, want = f(x, axis=-1, where=w), f(xm, axis=-1)
            if not closed:   # the per-row code: a lone kept entry beyond 340 gives +0.0 there, -0.0 here
                assert np.array_equal(got[some], want[some]), f.__name__
            else:
                assert got[some].tobytes() == want[some].tobytes(), f.__name__
    assert fa.softmax(x, axis=-1, where=w)[5].tolist() == [0.0] * n
    assert fa.log_softmax(x, axis=-1, where=w)[5].tolist() == [-np.inf] * n
    v, sgn = fa.logsumexp(x, axis=-1, where=w, return_sign=True)
    assert v[5] == -np.inf and sgn[5] == 0.0


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8])
def test_float64_short_rows_in_closed_form(isa, n):
    """float64 rows of 2 (fa_short_group_pairs_f64: max + log1p(e^(min - max))) and of 3 .. 8
    (fa_short_group_closed_f64: M + log1p(T), T compensated), each x_i - M a two-sum fed into
    the exp, one row per lane; softmax scaled once into the subnormals (n >= 3); logsumexp rows
    that cancel (M < 0, |v| < 2l) summed unshifted by the double-double pass.  Every row kind,
    ties, maxima beyond the float32 ranges, far-off entries, specials, where=, in place, each
    row's bits its own; within 1.5 / 3 / 2 ULP of long double for n = 2 (measured 1.39 / 2.66
    / 1.48 on SSE2, the worst variant), 2 / 3 / 3 for n >= 3 (measured 1.53 / 2.31 / 1.74: a T
    of n terms rounds more than a single E); cancelling logsumexp rows within 2 ULP or 2^-80
    of mpmath."""
    grouped = isa != "scalar"
    rng = np.random.default_rng(zlib.crc32(f"float64 closed {n}".encode()))
    parts = [gen(rng, (1501, n)) for gen in ROW_KINDS.values()]
    parts += [rng.normal(c, 3, (301, n)) for c in (600.0, -1000.0, -2.7)]
    parts += [rng.uniform(-900, 0, (301, n)), np.round(rng.normal(0, 1, (301, n)))]   # far entries; ties
    x = np.concatenate(parts)
    x[:5] = -np.inf
    x[0, 0], x[1, 0], x[3, 1], x[4] = np.nan, np.inf, 3.0, 2.0
    lse, sm, lsm, _, errs = _short_rows_errors(x, F64, 0.5, len(x))
    limits = ((1.5, 3.0, 2.0) if n == 2 else (2.0, 3.0, 3.0)) if grouped else (LSE_ULP, SOFTMAX_ULP, SOFTMAX_ULP)
    assert all(e <= b for e, b in zip(errs, limits)), errs
    assert np.isnan(lse[0]) and lse[1] == np.inf and lse[2] == -np.inf and lse[3] == 3.0
    assert lse[4] == pytest.approx(2.0 + np.log(n), rel=4e-16)
    assert fa.logsumexp(x[2:3], axis=-1, return_sign=True)[1][0] == 0.0
    assert sm[3].tolist() == [0.0, 1.0] + [0.0] * (n - 2) and lsm[3].tolist() == [-np.inf, 0.0] + [-np.inf] * (n - 2)
    assert (sm[4] == 1.0 / n).all() or not grouped          # (the per-row code: 1 ULP below)
    assert np.isnan(sm[:3]).all() and np.isnan(lsm[:2]).all()
    for f, full in ((fa.softmax, sm), (fa.log_softmax, lsm), (fa.logsumexp, lse)):
        for off in (1, 7, 31, 33):
            assert f(x[off:], axis=-1).tobytes() == full[off:].tobytes(), f.__name__
        assert f(x[1001:1002], axis=-1).tobytes() == full[1001:1002].tobytes()
        if f is not fa.logsumexp and grouped:
            y = x.copy()
            assert f(y, axis=-1, out=y) is y
            assert y.tobytes() == full.tobytes(), f.__name__
    w = rng.uniform(size=x.shape) >= 0.2
    w[5] = False
    xm = np.where(w, x, -np.inf)
    some = w.any(axis=1) & np.isfinite(np.where(w, x, -1.0)).all(axis=1)
    with np.errstate(all="ignore"):
        for f in (fa.softmax, fa.log_softmax, fa.logsumexp):
            got, want = f(x, axis=-1, where=w), f(xm, axis=-1)
            if grouped:
                assert got[some].tobytes() == want[some].tobytes(), f.__name__
            else:
                np.testing.assert_allclose(got[some], want[some], rtol=8 * np.finfo(F64).eps, atol=2.0 ** -80)
    assert (fa.softmax(x, axis=-1, where=w)[5] == 0.0).all()
    assert (fa.log_softmax(x, axis=-1, where=w)[5] == -np.inf).all()
    v, sgn = fa.logsumexp(x, axis=-1, where=w, return_sign=True)
    assert v[5] == -np.inf and sgn[5] == 0.0


@pytest.mark.parametrize("n", [2, 3, 4, 7, 16])
def test_short_normalised_logsumexp_float32(isa, n):
    """float32 log-probability rows of a few entries: logsumexp ~1e-8 or below, summed
    unshifted (the double-pair tier, then the double-double pass where its bound fails: the
    rows below a vector's width queued across groups, the longer ones in the group's lanes or
    by the per-row code); within 2 ULP or 2^-80 of mpmath, each row's bits its own."""
    rng = np.random.default_rng(zlib.crc32(f"normalised {n}".encode()))
    x = fa.log_softmax((rng.standard_normal((1500, n)) * 3).astype(F32), axis=-1)
    got = fa.logsumexp(x, axis=-1)
    lh, ll = _mp_lse_rows(x)
    assert ((np.abs((got - lh) - ll) <= 2.0 ** -80) | (ulp_errors(got, lh, ll, F32) <= LSE_ULP)).all()
    for r in (0, 1, 17, 700, 1499):
        np.testing.assert_array_equal(fa.logsumexp(x[r:r + 1], axis=-1), got[r:r + 1])
    np.testing.assert_array_equal(fa.logsumexp(x[5:], axis=-1), got[5:])


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("kind", list(ROW_KINDS))
@pytest.mark.parametrize("n", [1, 5, 300, 4100])
def test_ulp_row_kinds(isa, dtype, kind, n):
    """Every row kind within the bounds, on every variant: the statistics pass must not
    depend on where the row lies (shifted, peaked, normalised, -inf entries); n = 4100
    spans two chunks."""
    rng = np.random.default_rng(zlib.crc32(f"{kind} {n}".encode()))   # the same rows in every process
    x = ROW_KINDS[kind](rng, (3, n)).astype(dtype)
    x[:, 0] = np.where(np.isinf(x[:, 0]), 0.0, x[:, 0])     # no all -inf row
    ref = mp_reference if n < 1000 else ld_reference
    with np.errstate(invalid="ignore"):                    # -inf - -inf in the reference's split
        (lh, ll), (sh, sl), (qh, ql) = ref(x)
    fin = np.isfinite(qh)
    def check_lse(got, lh, ll, xs, where=None):
        if kind == "normalised" and dtype == F64:   # |lse| ~ 1e-17: 2^-74 absolute (fa_lse_exact.h)
            if n >= 1000:                            # the long double reference is 2^-64 only
                lh, ll = _mp_lse_rows(xs, where=where)
            ok = (np.abs((got - lh) - ll) <= 2.0 ** -80) | (ulp_errors(got, lh, ll, dtype) <= LSE_ULP)
            assert ok.all()
        else:
            assert ulp_errors(got, lh, ll, dtype).max() <= LSE_ULP

    check_lse(fa.logsumexp(x, axis=-1), lh, ll, x)
    assert ulp_errors(fa.softmax(x, axis=-1), sh, sl, dtype).max() <= SOFTMAX_ULP
    q = fa.log_softmax(x, axis=-1)
    assert np.all(q[~fin] == -np.inf)
    assert ulp_errors(q[fin], qh[fin], ql[fin], dtype).max() <= SOFTMAX_ULP
    where = rng.random(x.shape) < 0.8
    where[:, 1 if n > 1 else 0] = True
    xm = np.where(where, x, -np.inf)
    with np.errstate(invalid="ignore"):
        (lh, ll), (sh, sl), _ = ref(xm)
    check_lse(fa.logsumexp(x, axis=-1, where=where), lh, ll, x, where)
    assert ulp_errors(fa.softmax(x, axis=-1, where=where), sh, sl, dtype).max() <= SOFTMAX_ULP


@pytest.fixture
def softmax_overlap(request):
    """The per-CPU tuning fa_tune_softmax_overlap (on for Intel cores: float32 softmax rows
    longer than 4 KB scaled inside the next row's pass) set to the test's `overlap` parameter
    (None: left as this CPU has it), and restored after."""
    before = fa.kernels._set_softmax_overlap(None)
    if request.node.callspec.params["overlap"] is not None:
        fa.kernels._set_softmax_overlap(request.node.callspec.params["overlap"])
    yield fa.kernels._set_softmax_overlap(None)
    fa.kernels._set_softmax_overlap(before)


@pytest.mark.parametrize("func, overlap", [("softmax", False), ("softmax", True), ("log_softmax", None)],
                         ids=["softmax-two-pass", "softmax-overlap", "log_softmax"])
@pytest.mark.parametrize("n", [7, 1024, 5000, 50257])
def test_rows_written_inside_the_next_rows_pass(isa, n, func, overlap, softmax_overlap):
    """float32 log_softmax writes row r's output (softmax: scales row r's stored terms) during
    row r+1's statistics pass: the same bits as each row alone, in place too, also around rows
    the float32 lanes decline midway (a chunk beyond their range after the first), special
    rows (+inf, NaN, all -inf) and the last row; softmax rows past 4 KB take that order only
    with the overlap tuning (Intel cores; both settings run here), the bits the same either way."""
    f = getattr(fa, func)
    rng = np.random.default_rng(zlib.crc32(f"pending {n}".encode()))
    x = rng.normal(0, 3, (9, n)).astype(F32)
    x[2, -1] = 400.0                 # past the float32 lanes: declined at its last chunk
    x[3] += 100.0
    x[4, n // 2] = np.inf
    x[5, 0] = np.nan
    x[6] = -np.inf
    x[8] -= 300.0                    # its max below the float32 lanes' range: declined at once
    alone = np.array([f(row) for row in x])
    got = f(x, axis=-1)
    assert got.tobytes() == alone.tobytes()
    if func == "softmax":        # the other setting of the tuning: the same bits
        fa.kernels._set_softmax_overlap(not softmax_overlap)
        other = f(x, axis=-1)
        fa.kernels._set_softmax_overlap(softmax_overlap)
        assert other.tobytes() == got.tobytes()
    inplace = x.copy()
    f(inplace, axis=-1, out=inplace)
    if func == "log_softmax":    # (softmax in place recomputes its terms: not the stored bits)
        assert inplace.tobytes() == alone.tobytes()
    assert np.isnan(got[4]).all() and np.isnan(got[5]).all() and np.isnan(got[6]).all()
    ok = [0, 1, 2, 3, 7, 8]
    with np.errstate(invalid="ignore"):
        (_, _), (sh, sl), (qh, ql) = ld_reference(x[ok]) if LONGDOUBLE_OK else mp_reference(x[ok])
    hi, lo = (qh, ql) if func == "log_softmax" else (sh, sl)
    assert ulp_errors(got[ok], hi, lo, F32).max() <= SOFTMAX_ULP
    assert ulp_errors(inplace[ok], hi, lo, F32).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("axis", [0, -1])
def test_float32_slices_holding_a_mask_value(isa, axis):
    """float32 slices where 10% of the entries are a mask value (-1e9, -1e30, -inf) beside
    N(0, 3) and spread entries: every output within SPEC section 6.  The AVX-512 e^x sums of
    the column blocks met n = -1.4e9 there (no clamp before vscalefps) and took the exp's
    integer-side rounding in most vectors (1.6 ms against 0.95 for N(0, 3) columns, Intel);
    since fa_ldexp_exp_f32 such lanes are +0 with no rounding step, and the columns keep the
    e^x sums."""
    rng = np.random.default_rng(zlib.crc32(f"mask value {axis}".encode()))
    x = rng.normal(0, 3, (96, 40)).astype(F32)
    x[:, 5:10] = rng.uniform(-90, 10, (96, 5))
    for value, cols in ((-1e9, slice(0, 20)), (-1e30, slice(20, 30)), (-np.inf, slice(30, 40))):
        x[:, cols][rng.uniform(size=(96, cols.stop - cols.start)) < 0.1] = value
    x[0, :] = -1e9
    x[0, ::7] = 0.5                       # every slice keeps a finite entry that is not masked
    xs = x if axis == 0 else np.ascontiguousarray(x.T)
    with np.errstate(invalid="ignore", under="ignore"):
        (lh, ll), (sh, sl), (qh, ql) = mp_reference(xs, axis=axis)
    assert ulp_errors(fa.logsumexp(xs, axis=axis), lh, ll, F32).max() <= LSE_ULP
    assert ulp_errors(fa.softmax(xs, axis=axis), sh, sl, F32).max() <= SOFTMAX_ULP
    got = fa.log_softmax(xs, axis=axis)
    fin = np.isfinite(qh) & (np.abs(qh) < 1e30)
    assert ulp_errors(got[fin], qh[fin], ql[fin], F32).max() <= SOFTMAX_ULP
    assert np.all(got[xs == -np.inf] == -np.inf)


@pytest.mark.parametrize("scalef_tiny", [False, True], ids=["integer-side", "vscalef"])
def test_float32_columns_with_deep_and_far_entries_in_one_vector(isa, scalef_tiny):
    """float32 columns whose maxima lie in the e^x sums' range ([-80, 64]: -21 here) with, in
    one row's vector, entries near -90 (their e^x below 2^-100: the exp's deep lanes) beside
    far ones (-1e8 .. -3e38, -inf: gone lanes).  Before 2026-12-07 the AVX-512 e^x sums took
    fa_ldexp_deep_f32 for such a vector with a 2^(n + 149) that is no float for the far lanes
    (softmax outputs up to 2.36 with the integer-side rounding, Intel's default), and +inf
    terms through vscalefps (AMD's) below about -1e15: found by a review.  Both settings of
    fa_tune_scalef_tiny, every variant, against mpmath (SPEC section 6)."""
    before = fa.kernels._set_scalef_tiny(scalef_tiny)
    try:
        rng = np.random.default_rng(5)
        far = (-1e8, -1e9, -1e15, -1e30, -3e38, -np.inf)      # one per block of 64 columns
        x = np.full((8, 64 * len(far)), -30.0, F32) + rng.uniform(0, 1, (8, 64 * len(far))).astype(F32)
        x[0] = -21.0
        x[3, ::2] = rng.uniform(-100, -85, x.shape[1] // 2).astype(F32)
        x[3, 1::2] = np.repeat(np.array(far, F32), 32)
        x[5, 1::4] = -87.5
        with np.errstate(invalid="ignore", under="ignore"):
            (lh, ll), (sh, sl), (qh, ql) = mp_reference(x, axis=0)
        y = fa.softmax(x, axis=0)
        assert ulp_errors(y, sh, sl, F32).max() <= SOFTMAX_ULP
        assert ulp_errors(fa.logsumexp(x, axis=0), lh, ll, F32).max() <= LSE_ULP
        got = fa.log_softmax(x, axis=0)
        fin = np.isfinite(qh) & (np.abs(qh) < 1e30)
        assert ulp_errors(got[fin], qh[fin], ql[fin], F32).max() <= SOFTMAX_ULP
    finally:
        fa.kernels._set_scalef_tiny(before)


@pytest.mark.parametrize("overlap", [False, True])
@pytest.mark.parametrize("n", [7, 1024, 2048, 2049, 50257, 70000])
def test_float64_softmax_rows_scaled_inside_the_next_rows_pass(isa, n, overlap):
    """float64 softmax rows that stay in L2 (stored terms, then scaled) with the overlap tuning
    on (Intel cores: rows of one chunk scaled inside the next row's terms, fa_sm64_softmax_rows) and off: the
    same bits as each row alone, around rows of every chunk mode (biased chunks of spread
    log-weights, -inf entries, entries 1500 apart, a chunk the direct reduction declines),
    special rows (NaN, +inf, all -inf) and the last row; rows past 512 KB take the statistics."""
    rng = np.random.default_rng(zlib.crc32(f"float64 pending {n}".encode()))
    x = rng.normal(0, 3, (11, n))
    x[1] = rng.uniform(-800, 800, n)
    x[2, rng.uniform(size=n) < 0.1] = -np.inf
    x[3] = rng.uniform(-1500, 1500, n)
    x[4, n // 2] = np.nan
    x[5, 0] = np.inf
    x[6] = -np.inf
    x[7, : n // 2] = -1e300
    x[8] += 700.0
    x[9] = rng.uniform(-760, 0, n)
    before = fa.kernels._set_softmax_overlap(overlap)
    try:
        got = fa.softmax(x, axis=-1)
        alone = np.array([fa.softmax(row) for row in x])
        fa.kernels._set_softmax_overlap(not overlap)
        other = fa.softmax(x, axis=-1)
    finally:
        fa.kernels._set_softmax_overlap(before)
    assert got.tobytes() == alone.tobytes()
    assert got.tobytes() == other.tobytes()
    assert np.isnan(got[4]).all() and np.isnan(got[5]).all() and np.isnan(got[6]).all()
    ok = [0, 1, 2, 8, 10]
    with np.errstate(invalid="ignore", under="ignore"):
        (_, _), (sh, sl), _ = mp_reference(x[ok]) if n <= 1024 else ld_reference(x[ok]) if LONGDOUBLE_OK else (
            (None, None), (None, None), None)
    if sh is not None:
        normal = np.abs(sh) >= np.finfo(F64).tiny
        assert ulp_errors(got[ok][normal], sh[normal], sl[normal], F64).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [7, 5000])
def test_masked_log_softmax_rows_written_inside_the_next_rows_pass(isa, n, dtype):
    """The same with where= (both dtypes): each row alone, batched and in place give the same
    bits (left-out entries -inf, NaN there never read), around declined (float32), special and
    fully masked rows."""
    rng = np.random.default_rng(zlib.crc32(f"pending masked {n}".encode()))
    x = rng.normal(0, 3, (8, n)).astype(dtype)
    keep = rng.random(x.shape) >= 0.2
    keep[:, 0] = True
    x[~keep] = np.nan
    x[2, -1] = 400.0
    keep[2, -1] = True               # declined at its last chunk
    x[3] -= 300.0                    # declined at once
    keep[5] = False                  # fully masked: -inf everywhere
    x[6, 0] = np.inf                 # +inf kept: NaN where kept
    alone = np.array([fa.log_softmax(x[r], where=keep[r]) for r in range(len(x))])
    got = fa.log_softmax(x, axis=-1, where=keep)
    assert got.tobytes() == alone.tobytes()
    inplace = x.copy()
    fa.log_softmax(inplace, axis=-1, where=keep, out=inplace)
    assert np.array_equal(inplace[keep], alone[keep], equal_nan=True)
    assert np.all(got[~keep] == -np.inf) and np.all(got[5] == -np.inf)
    assert np.isnan(got[6][keep[6]]).all()
    ok = [0, 1, 2, 3, 4, 7]
    with np.errstate(invalid="ignore"):
        _, _, (qh, ql) = (ld_reference if LONGDOUBLE_OK else mp_reference)(np.where(keep, x, -np.inf)[ok])
    kept = keep[ok]
    assert ulp_errors(got[ok][kept], qh[kept], ql[kept], dtype).max() <= SOFTMAX_ULP


@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
def test_float64_long_rows_sum_their_chunks_exactly(isa):
    """float64 rows of many chunks whose max grows from chunk to chunk: the chunks' sums are
    added at the row max's integer shift (powers of 2, fa_sm64_acc in fa_rows_f64.h), so
    the sum S carries no rescaling error.  Before, each new max multiplied the running sum by a
    rounded e^(M_old - mx): softmax rows of 70000 entries N(330, 3) / N(-250, 3) (past the
    stored path, every entry scaled by 1/S) measured 2.9-3.3 ULP, every entry off alike."""
    rng = np.random.default_rng(zlib.crc32(b"long float64 rows"))
    n = 70_000
    x = np.concatenate([rng.normal(330, 3, (2, n)), rng.normal(-250, 3, (2, n)), rng.normal(0, 3, (2, n))])
    x += np.linspace(0, 6, n)            # maxima growing along the row: a rescale per chunk
    keep = rng.random(x.shape) >= 0.2
    keep[:, 0] = True
    for where in (None, keep):
        xm = x if where is None else np.where(where, x, -np.inf)
        with np.errstate(invalid="ignore"):          # -inf - -inf in the reference's split
            (lh, ll), (sh, sl), (qh, ql) = ld_reference(xm)
        kw = {} if where is None else {"where": where}
        assert ulp_errors(fa.softmax(x, axis=-1, **kw), sh, sl, F64).max() <= 2.6
        q = fa.log_softmax(x, axis=-1, **kw)
        fin = np.isfinite(qh)
        assert ulp_errors(q[fin], qh[fin], ql[fin], F64).max() <= 2.0
        assert ulp_errors(fa.logsumexp(x, axis=-1, **kw), lh, ll, F64).max() <= 1.0


@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [5000, 70_001])
def test_masked_rows_whole_chunks_and_junk(isa, dtype, n):
    """where= rows through the same direct reduction as unmasked ones: masks that leave out
    whole chunks (trailing padding, a leading or a middle block) or scattered entries, NaN /
    +-inf / 1e30 in the entries left out (never read into the result), entries far below the
    max (the clamped exp), and a fully masked row (softmax 0, log_softmax -inf, logsumexp
    -inf).  n = 70001 is past the rows whose softmax is stored once."""
    rng = np.random.default_rng(zlib.crc32(f"masked {n}".encode()))
    rows, keeps = [], []
    for pattern in ("trail", "lead", "mid", "scattered"):
        for values in ("normal3", "far_apart"):
            x = rng.normal(0, 3, n)
            if values == "far_apart":
                x[::3] -= 800 if dtype == F64 else 90
            keep = rng.random(n) >= 0.1
            if pattern == "trail":
                keep[n // 3:] = False
            elif pattern == "lead":
                keep[:(2 * n) // 3] = False
            elif pattern == "mid":
                keep[n // 4:(3 * n) // 4] = False
            keep[-1] = True
            rows.append(x)
            keeps.append(keep)
    rows.append(rng.normal(0, 3, n))
    keeps.append(np.zeros(n, bool))                           # fully masked
    x, keep = np.array(rows).astype(dtype), np.array(keeps)
    junk = x.copy()
    junk[~keep] = rng.choice(np.array([np.nan, np.inf, -np.inf, 1e30], dtype), size=int((~keep).sum()))
    lse = fa.logsumexp(junk, axis=-1, where=keep)
    sm = fa.softmax(junk, axis=-1, where=keep)
    ls = fa.log_softmax(junk, axis=-1, where=keep)
    assert lse[-1] == -np.inf and np.all(sm[-1] == 0) and np.all(ls[-1] == -np.inf)
    assert np.all(sm[:-1][~keep[:-1]] == 0) and np.all(ls[:-1][~keep[:-1]] == -np.inf)
    with np.errstate(invalid="ignore"):                    # -inf - -inf in the reference's split
        (lh, ll), (sh, sl), (qh, ql) = ld_reference(np.where(keep, x, -np.inf)[:-1])
    assert ulp_errors(lse[:-1], lh, ll, dtype).max() <= LSE_ULP
    assert ulp_errors(sm[:-1], sh, sl, dtype).max() <= SOFTMAX_ULP
    kept = keep[:-1]
    assert ulp_errors(ls[:-1][kept], qh[kept], ql[kept], dtype).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("axis", [-1, 0])
def test_logsumexp_cancelling(isa, dtype, axis):
    """M + log(sum) cancels when M < 0 and the result is near 0: still within the bound."""
    rng = np.random.default_rng(7)
    for n, loc in [(3, -0.6), (5, -1.0), (50, -4.0), (300, -6.0)]:
        x = rng.normal(loc, 0.7, (24, n)).astype(dtype)
        x = x if axis == -1 else np.ascontiguousarray(x.T)
        (lh, ll), _, _ = mp_reference(x, axis)
        assert np.any(np.abs(lh) < 0.5)           # the rows do reach the cancelling range
        assert ulp_errors(fa.logsumexp(x, axis=axis), lh, ll, dtype).max() <= LSE_ULP


def test_logsumexp_float64_shifted_rows_one_pass(isa):
    """float64 rows below 0 whose result lies in |v| >= 2 while l = log(sum) is of v's size
    (N(0, 3) - 20 rows, v ~ -6): M + l with l as a double-double (fa_lse_value_dd_l), no
    second pass, still within the bound against mpmath."""
    rng = np.random.default_rng(31)
    for n, loc, s in [(4100, -20.0, 3.0), (300, -12.0, 3.0), (1000, -10.5, 1.0), (300, -14.0, 2.0)]:
        x = rng.normal(loc, s, (16, n))
        lh, ll = _mp_lse_rows(x)
        assert np.any((np.abs(lh) >= 2) & (np.abs(lh) < 4 * np.abs(lh - x.max(axis=1))))
        assert ulp_errors(fa.logsumexp(x, axis=-1), lh, ll, F64).max() <= LSE_ULP


@pytest.mark.parametrize("dtype", [F32, F64])
def test_logsumexp_cancelling_with_weights_and_mask(isa, dtype):
    """The re-summing of cancelling slices honours b= and where= like the fast path."""
    rng = np.random.default_rng(9)
    x = rng.normal(-1.0, 0.7, (40, 6)).astype(dtype)
    b = rng.uniform(0.5, 2.0, x.shape).astype(dtype)
    where = rng.random(x.shape) < 0.8
    where[:, 0] = True
    got = fa.logsumexp(x, axis=-1, b=b, where=where)
    hi, lo = np.empty(len(x)), np.empty(len(x))
    with mpmath.workdps(50):
        for r in range(len(x)):
            v = mpmath.log(mpmath.fsum(mpmath.mpf(float(w)) * mpmath.exp(mpmath.mpf(float(a)))
                                       for a, w, m in zip(x[r], b[r], where[r]) if m))
            hi[r] = float(v)
            lo[r] = float(v - mpmath.mpf(hi[r]))
    assert np.any(np.abs(hi) < 0.5)
    assert ulp_errors(got, hi, lo, dtype).max() <= LSE_ULP


@pytest.mark.parametrize("axis", [-1, 0])
def test_float64_weighted_sums_near_one(isa, axis):
    """Weights below 1 that bring S = sum w e^(x - M) near 1 while M is near 0 too: l = log S
    and M have one sign and add up to a v near 0 without cancelling, so l's absolute error
    (S's rounding, ~2^-53) was ~0.5/|v| ULPs of v (10 ULP at v = -0.013, ~20 near +-0.03;
    found by a differential fuzz).  Such slices are summed again without a shift."""
    rng = np.random.default_rng(23)
    rows = [(np.array([-0.01, -0.94]), np.array([0.78, 0.55]))]
    for _ in range(60):
        n = int(rng.integers(2, 40))
        x = rng.uniform(-2.0, 0.3, n)
        b = rng.uniform(0.0, 1.0, n)
        rows.append((x, b / float(np.sum(b * np.exp(x))) * np.exp(rng.uniform(-0.3, 0.3))))
    n = max(len(x) for x, _ in rows)
    x = np.full((len(rows), n), -np.inf)
    b = np.zeros((len(rows), n))
    for r, (xr, br) in enumerate(rows):
        x[r, :len(xr)], b[r, :len(br)] = xr, br
    hi, lo = np.empty(len(rows)), np.empty(len(rows))
    with mpmath.workdps(50):
        for r, (xr, br) in enumerate(rows):
            v = mpmath.log(mpmath.fsum(mpmath.mpf(float(w)) * mpmath.exp(mpmath.mpf(float(a))) for a, w in zip(xr, br)))
            hi[r] = float(v)
            lo[r] = float(v - mpmath.mpf(hi[r]))
    assert np.abs(hi).max() < 0.4
    got = fa.logsumexp(x, axis=-1, b=b) if axis == -1 else fa.logsumexp(x.T.copy(), axis=0, b=b.T.copy())
    assert ulp_errors(got, hi, lo, F64).max() <= LSE_ULP


@pytest.mark.parametrize("dtype", [F32, F64])
def test_negative_weighted_totals(isa, dtype):
    """logsumexp(x, b=w, return_sign=True) where sum w e^x < 0: log|S| with sign -1 cancels
    against M as a positive total does, but only positive totals were summed again without a
    shift: rows of 2-4 with |S| ~ 1 were up to 2e5 ULP off (float64; found by a differential
    fuzz).  Well-conditioned rows only (sum |terms| <= 4 |S|), in memory and chunked (Dask's
    combination of chunk records, through one long slice's blocks)."""
    rng = np.random.default_rng(41)
    rows = []
    while len(rows) < 150:
        n = int(rng.integers(2, 6))
        a = rng.uniform(-1, 3, n)
        w = rng.normal(0, 1, n)
        s = float(np.sum(w * np.exp(a)))
        w = w / abs(s) * (1 + rng.normal(0, 1e-2))
        a, w = a.astype(dtype), w.astype(dtype)
        with mpmath.workdps(50):
            terms = [mpmath.mpf(float(c)) * mpmath.exp(mpmath.mpf(float(v))) for v, c in zip(a, w)]
            S = mpmath.fsum(terms)
            if S >= 0 or mpmath.fsum(abs(t) for t in terms) > 4 * abs(S) or abs(mpmath.log(-S)) < 2.0 ** -20:
                continue
            L = mpmath.log(-S)
        rows.append((a, w, float(L), float(L - mpmath.mpf(float(L)))))
    for a, w, hi, lo in rows:
        v, sign = fa.logsumexp(a, b=w, return_sign=True)
        assert sign == -1
        err = ulp_errors(np.array([v], dtype), np.array([hi]), np.array([lo]), dtype).max()
        assert err <= LSE_ULP, (a, w, v, hi, err)
    # the same rows as one long slice's blocks: each row padded into its own block of 2^16 entries
    block = 1 << 16
    k = 5
    x = np.full(k * block, -np.inf, dtype)
    b = np.zeros(k * block, dtype)
    a, w, hi, lo = rows[0]
    x[3 * block:3 * block + len(a)], b[3 * block:3 * block + len(w)] = a, w
    x[:4], b[:4] = -60.0, 1e-30                        # a block of tiny positive terms beside it
    with mpmath.workdps(50):
        S = mpmath.fsum(mpmath.mpf(float(c)) * mpmath.exp(mpmath.mpf(float(v)))
                        for v, c in zip(np.concatenate([x[:4], a]), np.concatenate([b[:4], w])))
        L = mpmath.log(-S)
    v, sign = fa.logsumexp(x, b=b, return_sign=True)
    assert sign == -1
    assert ulp_errors(np.array([v], dtype), np.array([float(L)]), np.array([float(L - mpmath.mpf(float(L)))]),
                      dtype).max() <= LSE_ULP


@pytest.mark.parametrize("n", [100, 300])
@pytest.mark.parametrize("axis", [-1, 0])
def test_float32_weighted_rows_near_zero(isa, n, axis):
    """float32 rows with signed or small positive weights whose logsumexp lands in (-0.5, 0.5):
    the float64-lane statistics' M + log S kept ~2^-40 absolute, up to 5.7 ULP of v at
    v = -0.0015 (rows of 100; found by a differential fuzz).  Weighted float32 slices with
    |v| < 1 are summed again without a shift, as float64 ones."""
    rng = np.random.default_rng(12)
    rows = 30000 // n
    x = rng.normal(0, 2, (rows, n)).astype(F32)
    b = np.where(rng.random((rows, n)) < 0.5, rng.uniform(-1, 1, (rows, n)),
                 rng.uniform(0, 0.3, (rows, n))).astype(F32)
    b[np.sum(b * np.exp(x.astype(np.float64)), axis=1) <= 0] *= -1       # a positive total
    target = rng.uniform(-0.5, 0.5, rows) * 10.0 ** rng.uniform(-3, 0, rows)
    shift = np.log(np.sum(b * np.exp(x.astype(np.float64)), axis=1)) - target
    x = (x - shift[:, None].astype(F32)).astype(F32)
    hi, lo = np.empty(rows), np.empty(rows)
    with mpmath.workdps(40):
        for r in range(rows):
            v = mpmath.log(mpmath.fsum(mpmath.mpf(float(w)) * mpmath.exp(mpmath.mpf(float(a)))
                                       for a, w in zip(x[r], b[r])))
            hi[r] = float(v)
            lo[r] = float(v - mpmath.mpf(hi[r]))
    assert np.abs(hi).max() < 1.0
    got = fa.logsumexp(x, axis=-1, b=b) if axis == -1 else fa.logsumexp(x.T.copy(), axis=0, b=b.T.copy())
    assert ulp_errors(got, hi, lo, F32).max() <= LSE_ULP


def test_logsumexp_of_log_probabilities():
    """lse of normalised log-probabilities is ~0: below |lse| ~ 2^-11 (float64) the result
    is accurate to ~2^-64 absolute rather than in ULPs (README, accuracy)."""
    logp = np.log(np.random.default_rng(8).dirichlet(np.ones(30), 20))
    (lh, ll), _, _ = mp_reference(logp)
    assert np.all(np.abs(fa.logsumexp(logp, axis=-1) - lh - ll) <= 2.0 ** -60)
    p32 = logp.astype(F32)
    (lh, ll), _, _ = mp_reference(p32)
    assert ulp_errors(fa.logsumexp(p32, axis=-1), lh, ll, F32).max() <= LSE_ULP


def _mp_lse_rows(x, b=None, where=None):
    """logsumexp of each row of x (weights b, mask where) as (hi, lo), mpmath at 60 digits"""
    hi, lo = np.empty(len(x)), np.empty(len(x))
    with mpmath.workdps(60):
        for r in range(len(x)):
            terms = [(mpmath.mpf(float(w)) if b is not None else 1) * mpmath.exp(mpmath.mpf(float(a)))
                     for k, (a, w) in enumerate(zip(x[r], b[r] if b is not None else x[r]))
                     if where is None or where[r, k]]
            v = mpmath.log(mpmath.fsum(terms))
            hi[r] = float(v)
            lo[r] = float(v - mpmath.mpf(hi[r]))
    return hi, lo


@pytest.mark.parametrize("layout", ["rows", "columns", "masked", "weighted"])
def test_logsumexp_normalised_float64_exact_sum(isa, layout):
    """float64 normalised log-probabilities (the result ~1e-16 cancels completely): the
    unshifted double-double sum (reductions/fa_lse_exact.h) holds an absolute error of
    2^-74 (the long double pass it replaced reached 2^-64), on contiguous rows (predicted
    from the previous row, and after the statistics), columns, masked and weighted rows."""
    rng = np.random.default_rng(12)
    for n in (2, 7, 40, 1500):
        lp = fa.log_softmax(rng.normal(-3, 3, (12, n)), axis=-1)
        b = where = None
        if layout == "masked":
            where = rng.random(lp.shape) < 0.7
            where[:, 0] = True
            lp = fa.log_softmax(lp, axis=-1, where=where)
            lp[~where] = rng.normal(0, 3, (~where).sum())     # left out: any value
        if layout == "weighted":
            b = rng.uniform(0.5, 2.0, lp.shape)
            lp = lp - np.log(b)                                # sum b e^lp = 1 again
        hi, lo = _mp_lse_rows(lp, b, where)
        if layout == "columns":
            got = fa.logsumexp(np.ascontiguousarray(lp.T), axis=0)
        else:
            got = fa.logsumexp(lp, axis=-1, b=b, where=where)
        assert np.all(np.abs(hi) < 1e-12)
        assert np.max(np.abs((got - hi) - lo)) <= 2.0 ** -80


def _rows_with_result(dtype, targets, n, seed):
    """Rows of n entries whose logsumexp lies within 2^-60 of each target (|target| <= 2^-20):
    a normalised N(0, 3) tail of n - 4 entries holding half the mass, then a ~ log(1/2) and
    b1 ~ -10, b2 ~ -25, b3 ~ -40 set one after the other, each rounded down in dtype and each
    step finer (e^b ulp(b) ~ 2^-34, 2^-55, 2^-76), so that the sum of e^x comes to e^target."""
    rng = np.random.default_rng(seed)
    rows = np.empty((len(targets), n), dtype=dtype)
    with mpmath.workdps(60):
        for r, t in enumerate(targets):
            tail = rng.normal(0, 3, n - 4)
            tail = (tail - scipy_special.logsumexp(tail) - np.log(2)).astype(dtype)
            left = mpmath.exp(mpmath.mpf(t)) - mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in tail)
            picked = []
            for room in (-10, -25, -40, None):             # what the next entries are to carry
                share = left - (mpmath.exp(room) if room else 0)
                v = dtype(float(mpmath.log(share)))
                if mpmath.exp(mpmath.mpf(float(v))) > share:     # rounded down: the rest stays >= 0
                    v = np.nextafter(v, dtype(-np.inf))
                picked.append(v)
                left -= mpmath.exp(mpmath.mpf(float(v)))
            rows[r] = np.concatenate([picked, tail]).astype(dtype)
    return rows


# the float32 tier's threshold (reductions/fa_lse_exact.h: |v| >= 2^24 delta(n) + delta(n),
# delta(n) = 2 (2^-56 + n^2 2^-100) + 2^-104): 2^-31 for these rows
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [6, 1000, 5000])
def test_logsumexp_cancelling_tier_boundaries(isa, dtype, n):
    """Results just above and just below the float32 tier's threshold 2^-31 (float32: the
    double-pair pass above it, the double-double pass below), around float64's 2 ULP limit
    2^-25, and far below both (2^-40, 2^-60: the double-double pass), of both signs, on
    contiguous rows (after the statistics, and predicted from the row before), columns
    and masked rows: within 2 ULP against mpmath, below 2^-25 (float64) and 2^-50 (float32)
    within 2^-76 (docs/SPEC.md, Status)."""
    mags = [2.0 ** -30.9, 2.0 ** -31.1, 2.0 ** -30, 2.0 ** -32, 2.0 ** -24.5, 2.0 ** -25.5, 2.0 ** -40, 2.0 ** -60]
    want = np.array(mags + [-m for m in mags])
    x = _rows_with_result(dtype, want, n, n)
    hi, lo = _mp_lse_rows(x)
    assert np.all(np.abs(hi - want) <= 2.0 ** -62)
    where = np.ones(x.shape, dtype=bool)
    where[:, -1] = False                                  # masked: one more entry, left out
    xm = np.concatenate([x, np.full((len(x), 1), 5.0, dtype=dtype)], axis=1)
    wm = np.concatenate([np.ones(x.shape, dtype=bool), np.zeros((len(x), 1), dtype=bool)], axis=1)
    for got in (fa.logsumexp(x, axis=-1), fa.logsumexp(np.ascontiguousarray(x.T), axis=0),
                fa.logsumexp(xm, axis=-1, where=wm),
                np.array([fa.logsumexp(row) for row in x])):   # each row alone: after the statistics
        big = np.abs(hi) >= (2.0 ** -50 if dtype == F32 else 2.0 ** -25)
        assert ulp_errors(got[big], hi[big], lo[big], dtype).max() <= LSE_ULP
        assert np.max(np.abs((got[~big] - hi[~big]) - lo[~big])) <= 2.0 ** -76


@pytest.mark.parametrize("dtype", [F32, F64])
def test_logsumexp_row_does_not_depend_on_the_row_before(isa, dtype):
    """A row's logsumexp is a function of that row alone (rows split over threads start
    anywhere).  After a row that cancels (normalised log-probabilities, result ~0) the next
    row is summed first without a shift (reductions/fa_rows.h, fa_sm_lse_rows): rows whose
    result lies in (-1, 1) or [1, 1.4), with M >= 0 and M < 0, where M + l and the unshifted
    sum disagree in their last bits, and rows at relative distances 10^-1 .. 10^-14 from a
    bound of fa_lse_choice (v = -l, v = -4l, v = +-1, v = +-2, M = 0), give the same bits
    after a cancelling row, after a row that does not cancel, and alone."""
    uint = np.uint32 if dtype == F32 else np.uint64
    differ, kinds = {}, set()
    for n in (2, 7, 64, 1000):
        lp = log_probability_rows(F64, n, 42, seed=n + 2)
        l = -lp.max(axis=1)                  # the shifted rows' l (~, up to lp's rounding)
        eps = 10.0 ** -np.linspace(1, 14, len(lp)) * np.resize([1, -1], len(lp))
        bounds = [-l * (1 + eps), -4 * l * (1 + eps), 1 + eps, -1 + eps, 2 + eps, -2 + eps, l * (1 + eps)]
        rows = np.concatenate([log_probability_rows(dtype, n, 300, seed=n, shifted=True)]
                              + [(lp + c[:, None]).astype(dtype) for c in bounds])
        cancelling = log_probability_rows(dtype, n, len(rows), seed=n + 1)
        assert np.all(cancelling.max(axis=1) < 0) and np.all(np.abs(fa.logsumexp(cancelling, axis=-1)) < 2.0 ** -20)
        alone = np.concatenate([fa.logsumexp(row[None], axis=-1) for row in rows])
        kinds |= set(zip(rows.max(axis=1) >= 0, alone >= 1))
        for what, before in (("a cancelling row", cancelling), ("a row that does not", np.full_like(rows, 5.0))):
            got = fa.logsumexp(np.stack([before, rows], axis=1).reshape(-1, n), axis=-1)[1::2]
            count = int(np.sum(got.view(uint) != alone.view(uint)))
            if count:
                differ[f"n={n} after {what}"] = count
    assert kinds == {(False, False), (False, True), (True, False), (True, True)}   # M >= 0, v >= 1
    assert not differ, f"rows (of {len(rows)} per n) whose bits differ from the row alone: {differ}"


@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
def test_logsumexp_of_float32_log_softmax_rows(isa):
    """lse of log_softmax output is ~1e-7 .. 1e-12 and cancels completely (M < 0 < l): each
    row is summed again (double-double terms, or long double below 2^-30)."""
    rng = np.random.default_rng(31)
    checked = 0
    for n in (2, 10, 300, 5000):
        lp = fa.log_softmax(rng.normal(0, 2, (200, n)).astype(F32), axis=-1)
        (lh, ll), _, _ = ld_reference(lp.astype(F64))
        keep = np.abs(lh) >= 2.0 ** -38          # the long double reference is 2^-64 absolute
        err = ulp_errors(fa.logsumexp(lp, axis=-1)[keep], lh[keep], ll[keep], F32)
        assert err.max() <= LSE_ULP
        checked += keep.sum()
    assert checked >= 700


@pytest.mark.parametrize("dtype", [F32, F64])
def test_dominant_entry(isa, dtype):
    """log1p for the dominant term: SciPy gets lse right, every peer gets log_softmax[0] = 0."""
    x = np.array([0.0, -40.0] if dtype == F64 else [0.0, -20.0], dtype=dtype)
    (lh, ll), (sh, sl), (qh, ql) = mp_reference(x)
    assert ulp_errors(fa.logsumexp(x), lh, ll, dtype).max() <= LSE_ULP
    assert ulp_errors(fa.log_softmax(x), qh, ql, dtype).max() <= SOFTMAX_ULP
    if dtype == F64:
        assert fa.logsumexp(x) == pytest.approx(4.248354255291589e-18, rel=1e-15)
        assert fa.log_softmax(x)[0] == pytest.approx(-4.248354255291589e-18, rel=1e-15)
        assert scipy_special.log_softmax(x)[0] == 0.0   # SciPy is wrong here (scipy#19521)


# c of rows of 1000 where the faster exp gave 2.09-2.14 ULP (found by the search below, 40000 rows)
EQUAL_TERMS_WORST = [float.fromhex(h) for h in (
    "-0x1.628068p+4", "-0x1.1ff92cp+4", "-0x1.14e98cp+4", "-0x1.36274ap+4",
    "-0x1.414480p+4", "-0x1.83ca3cp+4", "-0x1.78afe2p+4", "-0x1.2b0da6p+4")]


@pytest.mark.parametrize("n", [100, 1000])
def test_dominant_entry_over_equal_terms(isa, n):
    """Rows [0, c, ..., c]: every term of T has the same exp error (no averaging), and with T's
    mantissa near 2 and M = 0 logsumexp's v = log1p(T) carries T's relative error at its
    largest in ULPs.  The faster exp of the float32 statistics (0.98 ULP) measured 2.09 ULP here
    when it summed these rows; logsumexp takes it only where the row max is >= 1."""
    rng = np.random.default_rng(n)
    k = rng.integers(-28, -12, 1500)
    c = np.log(2.0 ** k * rng.uniform(0.93, 0.9999, k.size) / (n - 1)).astype(F32)
    if n == 1000:
        c = np.concatenate([np.array(EQUAL_TERMS_WORST, dtype=F32), c])
    x = np.repeat(c[:, None], n, axis=1)
    x[:, 0] = 0.0
    (lh, ll), _, (qh, ql) = ld_reference(x)
    assert ulp_errors(fa.logsumexp(x, axis=-1), lh, ll, F32).max() <= LSE_ULP
    assert ulp_errors(fa.log_softmax(x, axis=-1)[:, 0], qh[:, 0], ql[:, 0], F32).max() <= SOFTMAX_ULP


# ---------------------------------------------------------------- axes and layouts
SHAPES = [(6,), (3, 5), (2, 3, 4), (2, 3, 2, 5)]


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("shape", SHAPES)
def test_every_axis_and_layout(isa, dtype, shape):
    base = np.random.default_rng(len(shape)).uniform(-50, 50, shape).astype(dtype)
    layouts = [base, np.asfortranarray(base), base[..., ::-1], np.flip(base, 0)]
    for x in layouts:
        for axis in range(-x.ndim, x.ndim):
            assert_accurate(x, axis, dtype)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_non_last_axis_blocks(isa, dtype):
    """inner > 1 with widths that are not a multiple of the column block, more rows than a chunk."""
    rng = np.random.default_rng(11)
    for shape in [(300, 3), (5, 37), (2, 700, 41), (33, 2)]:
        x = rng.uniform(-50, 50, shape).astype(dtype)
        assert_accurate(x, 0 if len(shape) == 2 else 1, dtype)
    if LONGDOUBLE_OK:   # many chunks of rows merged per lane
        assert_accurate(rng.uniform(-50, 50, (4097, 5)).astype(dtype), 0, dtype, ld_reference)


def test_axis_none_and_tuples():
    x = np.random.default_rng(5).uniform(-5, 5, (3, 4, 5))
    for axis in [None, (0, 1), (1, 2), (0, 2), (2, 0), (0, 1, 2), (-1, 0)]:
        np.testing.assert_allclose(fa.logsumexp(x, axis=axis), scipy_special.logsumexp(x, axis=axis), rtol=1e-14)
        np.testing.assert_allclose(fa.softmax(x, axis=axis), scipy_special.softmax(x, axis=axis), rtol=1e-13)
        np.testing.assert_allclose(fa.log_softmax(x, axis=axis), scipy_special.log_softmax(x, axis=axis),
                                   rtol=1e-13)
        got = fa.logsumexp(x, axis=axis, keepdims=True)
        np.testing.assert_allclose(got, scipy_special.logsumexp(x, axis=axis, keepdims=True), rtol=1e-14)
    assert isinstance(fa.logsumexp(x), np.float64)
    assert fa.softmax(x).shape == x.shape


def test_zero_d_and_scalars():
    assert fa.logsumexp(2.0) == 2.0 and isinstance(fa.logsumexp(2.0), np.float64)
    assert fa.softmax(3.0) == 1.0 and fa.log_softmax(np.float32(2.0)) == 0.0
    assert fa.log_softmax(np.float32(2.0)).dtype == F32


# ---------------------------------------------------------------- SciPy agreement and dtypes
@pytest.mark.parametrize("dtype", [F32, F64])
def test_agrees_with_scipy(dtype):
    x = np.random.default_rng(2).normal(0, 3, (16, 33)).astype(dtype)
    tol = 1e-5 if dtype == F32 else 1e-13
    for axis in (None, 0, 1, -1):
        np.testing.assert_allclose(fa.softmax(x, axis), scipy_special.softmax(x, axis), rtol=tol)
        np.testing.assert_allclose(fa.logsumexp(x, axis), scipy_special.logsumexp(x, axis), rtol=tol)
        assert fa.softmax(x, axis).dtype == dtype
        assert np.asarray(fa.logsumexp(x, axis)).dtype == dtype


def test_integer_and_bool_input_is_float64_first():
    x = np.array([3, 1, 2], dtype=np.uint8)
    want = scipy_special.softmax(np.array([3.0, 1.0, 2.0]))
    np.testing.assert_allclose(fa.softmax(x), want, rtol=1e-15)
    with np.errstate(all="ignore"):               # SciPy computes x - max in uint8: it wraps around
        wrong = scipy_special.softmax(x)
    assert not np.allclose(wrong, want, equal_nan=False)
    assert fa.softmax(x).dtype == F64
    assert fa.log_softmax(np.array([100, -100], np.int8))[1] == pytest.approx(-200.0)
    assert fa.logsumexp(np.array([True, False])) == pytest.approx(np.log(1 + np.e))
    assert fa.logsumexp([1, 2]).dtype == F64


def test_float16():
    x = np.array([1.0, 2.0, 3.0], dtype=np.float16)
    for f in (fa.softmax, fa.log_softmax, fa.logsumexp):
        got = f(x)
        assert got.dtype == np.float16
        want = getattr(scipy_special, f.__name__)(x.astype(F64)).astype(np.float16)
        np.testing.assert_array_equal(got, want)


def test_complex_logsumexp():
    x = np.array([1 + 1j, 2 - 0.5j, -1 + 3j])
    np.testing.assert_allclose(fa.logsumexp(x), scipy_special.logsumexp(x), rtol=1e-14)
    with pytest.raises(TypeError):
        fa.softmax(x)


def test_unsupported_dtypes():
    for bad in (np.array(["a"]), np.array([object()], dtype=object)):
        for f in (fa.softmax, fa.log_softmax, fa.logsumexp):
            with pytest.raises(TypeError):
                f(bad)


# ---------------------------------------------------------------- special values (docs/SPEC.md 4)
inf, nan = np.inf, np.nan


@pytest.mark.parametrize("dtype", [F32, F64])
def test_special_values(isa, dtype):
    a = lambda v: np.array(v, dtype=dtype)   # noqa: E731
    assert fa.logsumexp(a([-inf, -inf])) == -inf
    assert fa.logsumexp(a([-inf, -inf]), return_sign=True) == (-inf, 0.0)
    for row in ([inf, 1], [inf, -inf], [inf, inf]):
        assert fa.logsumexp(a(row)) == inf
    for row in ([nan, 1], [nan, inf], [nan, -inf], [1, 2, nan, 3]):
        assert np.isnan(fa.logsumexp(a(row)))
        assert np.isnan(fa.softmax(a(row))).all() and np.isnan(fa.log_softmax(a(row))).all()
    for row in ([inf, 1], [inf, inf], [inf, -inf], [-inf, -inf]):
        assert np.isnan(fa.softmax(a(row))).all() and np.isnan(fa.log_softmax(a(row))).all()
    np.testing.assert_array_equal(fa.softmax(a([-inf, 1])), [0, 1])
    np.testing.assert_array_equal(fa.log_softmax(a([-inf, 1])), [-inf, 0])
    assert fa.logsumexp(a([])) == -inf
    assert fa.logsumexp(a([]), return_sign=True) == (-inf, 0.0)
    np.testing.assert_array_equal(fa.logsumexp(np.zeros((3, 0), dtype), axis=1), [-inf] * 3)
    assert fa.softmax(a([])).shape == (0,) and fa.log_softmax(np.zeros((0, 4), dtype), axis=1).shape == (0, 4)
    # special slices among normal ones, on a non-last axis too
    x = np.random.default_rng(0).normal(size=(4, 40)).astype(dtype)
    x[1, 7], x[2, 30], x[3] = nan, inf, -inf
    for arr, axis in ((x, 1), (np.ascontiguousarray(x.T), 0)):
        lse = fa.logsumexp(arr, axis=axis)
        assert np.isfinite(lse[0]) and np.isnan(lse[1]) and lse[2] == inf and lse[3] == -inf
        sm = fa.softmax(arr, axis=axis)
        sm = sm if axis == 1 else sm.T
        assert np.isfinite(sm[0]).all() and np.isnan(sm[1:]).all()


@pytest.mark.parametrize("dtype", [F32, F64])
def test_minus_inf_entries_and_huge_magnitudes(isa, dtype):
    """-inf entries inside long rows (clamped in the fast paths), and maxima beyond 2^20
    (where x - M needs the full two-sum)."""
    rng = np.random.default_rng(14)
    for n, axis in ((37, -1), (3000, -1), (37, 0)):
        x = rng.uniform(-30, 30, (3, n)).astype(dtype)
        x[:, ::5] = -inf
        xa = x if axis == -1 else np.ascontiguousarray(x.T)
        lse, sm, ls = fa.logsumexp(xa, axis=axis), fa.softmax(xa, axis=axis), fa.log_softmax(xa, axis=axis)
        sm, ls = (sm, ls) if axis == -1 else (sm.T, ls.T)
        for r in range(3):
            fin = np.isfinite(x[r])
            (lh, ll), (sh, sl), (qh, ql) = mp_reference(x[r][fin])
            assert ulp_errors(lse[r], lh, ll, dtype).max() <= LSE_ULP
            assert ulp_errors(sm[r][fin], sh, sl, dtype).max() <= SOFTMAX_ULP
            assert ulp_errors(ls[r][fin], qh, ql, dtype).max() <= SOFTMAX_ULP
            assert (sm[r][~fin] == 0).all() and (ls[r][~fin] == -inf).all()
    big = np.array([[3e7, 3e7 - 2, 3e7 - 40, -3e7], [1e30, 1e30, 0.0, -1e30]], dtype=dtype)
    (lh, ll), (sh, sl), (qh, ql) = mp_reference(big)
    assert ulp_errors(fa.logsumexp(big, axis=1), lh, ll, dtype).max() <= LSE_ULP
    assert ulp_errors(fa.softmax(big, axis=1), sh, sl, dtype).max() <= SOFTMAX_ULP
    assert ulp_errors(fa.log_softmax(big, axis=1), qh, ql, dtype).max() <= SOFTMAX_ULP
    assert ulp_errors(fa.softmax(np.ascontiguousarray(big.T), axis=0).T, sh, sl, dtype).max() <= SOFTMAX_ULP


@pytest.mark.parametrize("dtype", [F32, F64])
def test_special_values_long_rows(isa, dtype):
    """Specials in later chunks of a row, and a first chunk of only -inf."""
    rng = np.random.default_rng(15)
    x = rng.uniform(-5, 5, (4, 10000)).astype(dtype)
    x[0, 7000] = nan
    x[1, 9000] = inf
    x[2, :5000] = -inf
    sm, lse = fa.softmax(x, axis=1), fa.logsumexp(x, axis=1)
    assert np.isnan(sm[:2]).all() and np.isnan(lse[0]) and lse[1] == inf
    (lh, ll), (sh, sl), _ = ld_reference(x[2:3, 5000:]) if LONGDOUBLE_OK else mp_reference(x[2:3, 5000:])
    assert (sm[2, :5000] == 0).all()
    assert ulp_errors(sm[2, 5000:], sh, sl, dtype).max() <= SOFTMAX_ULP
    assert ulp_errors(lse[2], lh, ll, dtype).max() <= LSE_ULP
    assert np.isfinite(sm[3]).all() and abs(sm[3].sum() - 1) < 1e-5


def test_no_runtime_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fa.logsumexp([inf, -inf, nan])
        fa.softmax([inf, 1.0])
        fa.log_softmax([-inf, -inf])
        fa.logsumexp([1.0, 2.0], b=[1, -1])
        fa.logsumexp([1.0 + 1j, -inf])


# ---------------------------------------------------------------- b= and return_sign
def test_weights_scipy_rules(isa):
    lse = fa.logsumexp
    assert lse([inf, 1.0], b=[0, 1]) == 1.0                     # b == 0 drops even inf / NaN
    assert lse([nan, 1.0], b=[0, 1]) == 1.0
    assert lse([inf, 2.0], b=[0, 1]) == 2.0
    assert np.isnan(lse([1.0, 2.0], b=[1, -1]))                  # negative total
    val, sign = lse([1.0, 2.0], b=[1, -1], return_sign=True)
    assert sign == -1 and val == pytest.approx(float(scipy_special.logsumexp([1.0, 2.0], b=[1, -1],
                                                                               return_sign=True)[0]))
    assert lse([1.0, 1.0], b=[1, -1], return_sign=True) == (-inf, 0.0)
    assert np.isnan(lse([inf, inf], b=[1, -1]))
    assert np.isnan(lse([1.0, 2.0], b=[nan, 1]))
    assert np.isnan(lse([-inf, 2.0], b=[inf, 1]))
    x = np.random.default_rng(4).normal(size=(5, 6))
    b = np.random.default_rng(5).uniform(0.1, 2, 6)
    for axis in (None, 0, 1):
        np.testing.assert_allclose(lse(x, axis=axis, b=b), scipy_special.logsumexp(x, axis=axis, b=b), rtol=1e-14)
    bs = np.random.default_rng(6).uniform(-1, 1, (5, 6))
    got = lse(x, axis=1, b=bs, return_sign=True)
    want = scipy_special.logsumexp(x, axis=1, b=bs, return_sign=True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_array_equal(got[1], want[1])
    got = lse(x, axis=0, b=bs, return_sign=True)
    want = scipy_special.logsumexp(x, axis=0, b=bs, return_sign=True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_array_equal(got[1], want[1])
    assert lse(np.float32([1, 2]), b=2).dtype == F32             # Python scalars are weak (NEP 50)


WEIGHT_EDGES = [   # (a, b, dtypes): SciPy 1.17's value and sign, or the exact finite limit
    ([1.0, 2.0], [inf, 1.0], (F32, F64)),
    ([1.0], [inf], (F32, F64)),
    ([1.0, 2.0], [-inf, inf], (F32, F64)),
    ([1.0, 2.0], [-inf, 1.0], (F32, F64)),
    ([-inf, 2.0], [inf, 1.0], (F32, F64)),
    ([1.0, 2.0], [1.7e308, 1.7e308], (F64,)),   # the weighted sum overflows, its log does not
    ([0.0, 0.0], [1e308, 1e308], (F64,)),       # SciPy: inf; log(2e308) = 709.889...
]


@pytest.mark.parametrize("a, b, dtypes", WEIGHT_EDGES)
def test_weights_infinite_and_overflowing(isa, a, b, dtypes):
    """issue 11: infinite weights and weighted sums beyond DBL_MAX, as rows and as columns,
    with and without return_sign, against SciPy (and mpmath where SciPy overflows)."""
    for dtype in dtypes:
        x, w = np.array(a, dtype), np.array(b, dtype)
        with np.errstate(all="ignore"):                          # SciPy's own warnings
            want_v, want_s = scipy_special.logsumexp(x, b=w, return_sign=True)
        if np.isinf(want_v) and np.all(np.isfinite(w)):          # SciPy overflowed
            with mpmath.workdps(30):
                exact = mpmath.log(mpmath.fsum(mpmath.mpf(float(bb)) * mpmath.exp(mpmath.mpf(float(aa)))
                                               for aa, bb in zip(x, w)))
            want_v, want_s = float(exact), 1.0
            assert np.isfinite(want_v)
        want_plain = want_v if (want_s == 1 or np.isnan(want_s)) else np.nan
        got_v, got_s = fa.logsumexp(x, b=w, return_sign=True)
        np.testing.assert_allclose(got_v, want_v, rtol=1e-15)
        np.testing.assert_array_equal(got_s, want_s)
        np.testing.assert_allclose(fa.logsumexp(x, b=w), want_plain, rtol=1e-15)
        cols_v, cols_s = fa.logsumexp(np.stack([x, x], 1), b=np.stack([w, w], 1), axis=0, return_sign=True)
        np.testing.assert_allclose(cols_v, [want_v] * 2, rtol=1e-15)
        np.testing.assert_array_equal(cols_s, [want_s] * 2)


def test_weights_dominant_entry():
    (lh, ll), _, _ = mp_reference(np.array([0.0, -40.0]))
    assert ulp_errors(fa.logsumexp([0.0, -40.0], b=[1.0, 1.0]), lh, ll, F64).max() <= LSE_ULP


def test_b_not_broadcastable():
    with pytest.raises(ValueError):
        fa.logsumexp(np.ones((2, 3)), b=np.ones(4))


# ---------------------------------------------------------------- where=
@pytest.mark.parametrize("dtype", [F32, F64])
def test_where(isa, dtype):
    rng = np.random.default_rng(8)
    x = rng.uniform(-20, 20, (5, 37)).astype(dtype)
    mask = rng.uniform(size=x.shape) < 0.6
    mask[3] = False                                              # a fully masked row
    for axis in (1, 0):
        lse = fa.logsumexp(x, axis=axis, where=mask)
        sm = fa.softmax(x, axis=axis, where=mask)
        ls = fa.log_softmax(x, axis=axis, where=mask)
        assert (sm[~mask] == 0).all() and (ls[~mask] == -inf).all()
        xt, mt, smt, lst = (x, mask, sm, ls) if axis == 1 else (x.T, mask.T, sm.T, ls.T)
        lset = lse
        for r in range(xt.shape[0]):
            sel = xt[r][mt[r]]
            if sel.size == 0:
                assert lset[r] == -inf and (smt[r] == 0).all()
                continue
            (lh, ll), (sh, sl), (qh, ql) = mp_reference(sel)
            assert ulp_errors(lset[r], lh, ll, dtype).max() <= LSE_ULP
            assert ulp_errors(smt[r][mt[r]], sh, sl, dtype).max() <= SOFTMAX_ULP
            assert ulp_errors(lst[r][mt[r]], qh, ql, dtype).max() <= SOFTMAX_ULP
    # broadcast mask, masked entries that are inf or NaN are ignored
    y = np.array([[1.0, nan, 2.0], [inf, 0.0, 1.0]], dtype)
    m = np.array([True, False, True])
    np.testing.assert_allclose(fa.logsumexp(y, axis=1, where=m), [np.logaddexp(1, 2), inf], rtol=1e-6)


@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [7, 16, 33, 64, 200, 300, 5000])
def test_where_rows_accuracy(isa, dtype, n):
    """Masked rows (float32: the e^x pass with the mask, or the float64-lane path it leaves
    rows to; short float32 rows a group at a time): maxima below 0 and above 64, a dominant
    entry, huge/inf/NaN entries left out, a left-out first chunk; compared with the included
    entries alone; each row's bits those of the row alone."""
    rng = np.random.default_rng(n)
    rows = [b + rng.normal(0, 3, n) for b in (-100.0, -20.0, 0.0, 30.0, 70.0)]
    rows += [np.r_[5.0, np.full(n - 1, -30.0)], rng.normal(0, 3, n), rng.normal(0, 3, n)]
    x = np.array(rows)
    mask = rng.uniform(size=x.shape) < 0.7
    x[6, ~mask[6]] = np.where(rng.uniform(size=(~mask[6]).sum()) < 0.5, 1e30, np.inf)
    x[6, np.flatnonzero(~mask[6])[::3]] = np.nan
    mask[7, :min(n - 1, 4096)] = False
    mask[7, -1] = mask[5, 0] = True
    x = x.astype(dtype)
    lse = fa.logsumexp(x, axis=-1, where=mask)
    sm = fa.softmax(x, axis=-1, where=mask)
    ls = fa.log_softmax(x, axis=-1, where=mask)
    assert (sm[~mask] == 0).all() and (ls[~mask] == -inf).all()
    for f, full in ((fa.logsumexp, lse), (fa.softmax, sm), (fa.log_softmax, ls)):
        for r in (0, 5, 6, 7):
            np.testing.assert_array_equal(f(x[r:r + 1], axis=-1, where=mask[r:r + 1]), full[r:r + 1])
    for r in range(x.shape[0]):
        (lh, ll), (sh, sl), (qh, ql) = ld_reference(x[r][mask[r]].astype(F64))
        assert ulp_errors(lse[r], lh, ll, dtype).max() <= LSE_ULP, r
        assert ulp_errors(sm[r][mask[r]], sh, sl, dtype).max() <= SOFTMAX_ULP, r
        assert ulp_errors(ls[r][mask[r]], qh, ql, dtype).max() <= SOFTMAX_ULP, r


def test_where_fully_masked():
    assert fa.softmax([1.0, 2.0, 3.0], where=[False] * 3).tolist() == [0, 0, 0]
    assert fa.logsumexp([1.0, 2.0], where=[False, False], return_sign=True) == (-inf, 0.0)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_softmax_large_output_same_bits(isa, dtype):
    """A 17 MB output in one call: the same bits as calls of 100 rows, into an out at any
    offset (the row kernels see every alignment)."""
    x = np.random.default_rng(21).normal(0, 3, (2100 * 4 // np.dtype(dtype).itemsize, 2048)).astype(dtype)
    x[7, 100] = -np.inf
    x[8, :] = -np.inf
    rows = x.shape[0]
    with np.errstate(invalid="ignore"):
        expected = np.concatenate([fa.softmax(x[i:i + 100], axis=-1) for i in range(0, rows, 100)])
    buf = np.empty(x.size + 16, dtype)
    for off in (0, 1, 5):
        out = buf[off:off + x.size].reshape(x.shape)
        assert fa.softmax(x, axis=-1, out=out) is out
        np.testing.assert_array_equal(out, expected)
    assert np.all(np.isnan(expected[8])) and expected[7, 100] == 0


@pytest.mark.parametrize("dtype", [F32, F64])
def test_in_place_rows_of_every_kind(isa, dtype):
    """out=x on rows that leave the fast passes (max below 0 or above 64, -inf entries, all
    -inf, a dominant entry): the input is read in full before it is overwritten."""
    rng = np.random.default_rng(41)
    rows = [rng.normal(-50, 3, 100), rng.normal(0, 300, 100), np.r_[0.0, np.full(99, -40.0)],
            np.where(rng.uniform(size=100) < 0.3, -inf, rng.normal(0, 3, 100)), rng.normal(0, 3, 100)]
    x = np.array(rows).astype(dtype)
    finite = np.where(np.isinf(x), -1e4, x)
    _, (sh, sl), (qh, ql) = mp_reference(finite)
    for f, (h, lo) in ((fa.softmax, (sh, sl)), (fa.log_softmax, (qh, ql))):
        y = x.copy()
        assert f(y, axis=-1, out=y) is y
        keep = ~np.isinf(x) if f is fa.log_softmax else np.ones(x.shape, bool)
        assert ulp_errors(y[keep], h[keep], lo[keep], dtype).max() <= SOFTMAX_ULP
        assert np.all(y[~keep] == -inf)
        z = np.full((2, 50), -inf, dtype)
        with np.errstate(invalid="ignore"):
            f(z, axis=-1, out=z)
        assert np.isnan(z).all()


# ---------------------------------------------------------------- out=
@pytest.mark.parametrize("f", [fa.softmax, fa.log_softmax])
def test_out_rowwise(f):
    x = np.random.default_rng(9).normal(size=(6, 7))
    want = f(x, axis=1)
    out = np.empty_like(x)
    assert f(x, axis=1, out=out) is out and np.array_equal(out, want)
    out32 = np.empty(x.shape, F32)
    assert f(x, axis=1, out=out32) is out32
    np.testing.assert_allclose(out32, want, rtol=1e-6)
    strided = np.empty((6, 14))[:, ::2]
    assert f(x, axis=1, out=strided) is strided and np.array_equal(strided, want)
    fort = np.empty(x.shape, order="F")
    f(x, axis=0, out=fort)
    assert np.array_equal(fort, f(x, axis=0))      # C input, F out: computed, then copied
    inplace = x.copy()
    assert f(inplace, axis=1, out=inplace) is inplace and np.array_equal(inplace, want)
    inplace_t = np.asfortranarray(x)
    want_t = f(np.asfortranarray(x), axis=0)
    f(inplace_t, axis=0, out=inplace_t)
    assert np.array_equal(inplace_t, want_t)
    buf = np.random.default_rng(1).normal(size=50)             # partial overlap
    xin, o = buf[:42].reshape(6, 7), buf[8:50].reshape(6, 7)
    want_overlap = f(xin.copy(), axis=1)
    f(xin, axis=1, out=o)
    assert np.array_equal(o, want_overlap)


@pytest.mark.parametrize("f", [fa.softmax, fa.log_softmax, fa.logsumexp])
def test_out_errors_write_nothing(f):
    x = np.random.default_rng(10).normal(size=(4, 5))
    shape = x.shape if f is not fa.logsumexp else (4,)
    cases = [(np.zeros((3, 5)), ValueError), (np.zeros(shape, np.int64), TypeError), ([0.0] * 4, TypeError)]
    ro = np.zeros(shape)
    ro.flags.writeable = False
    cases.append((ro, ValueError))
    for out, err in cases:
        before = np.array(out, copy=True)
        with pytest.raises(err):
            f(x, axis=1, out=out)
        assert np.array_equal(np.asarray(out), before)
    with pytest.raises(AxisError):   # an argument error also writes nothing
        out = np.zeros(shape)
        f(x, axis=3, out=out)
    assert not out.any()


def test_out_logsumexp():
    x = np.random.default_rng(12).normal(size=(4, 5))
    out = np.empty(4)
    assert fa.logsumexp(x, axis=1, out=out) is out
    np.testing.assert_allclose(out, scipy_special.logsumexp(x, axis=1), rtol=1e-15)
    out = np.empty((4, 1))
    assert fa.logsumexp(x, axis=1, keepdims=True, out=out) is out
    out0 = np.empty(())
    assert fa.logsumexp(x, out=out0) is out0


# ---------------------------------------------------------------- argument errors (docs/SPEC.md 5)
@pytest.mark.parametrize("f", [fa.softmax, fa.log_softmax, fa.logsumexp])
def test_axis_errors(f):
    x = np.ones((2, 3))
    with pytest.raises(AxisError, match="out of bounds"):
        f(x, axis=2)
    with pytest.raises(AxisError):
        f(x, axis=-3)
    with pytest.raises(ValueError, match="duplicate"):
        f(x, axis=(0, 0))
    with pytest.raises(TypeError):
        f(x, axis=1.0)
    assert np.array_equal(f(x, axis=np.int64(1)), f(x, axis=1))


def test_fast_path_matches_general_path(isa):
    """The C-API fast path and the general path (through a mask of all True) agree."""
    rng = np.random.default_rng(13)
    for dtype in (F32, F64):
        x = rng.uniform(-30, 30, (8, 10)).astype(dtype)
        ones = np.ones(x.shape, bool)
        for axis in (None, 0, 1):
            for f in (fa.softmax, fa.log_softmax, fa.logsumexp):
                a, b = f(x, axis=axis), f(x, axis=axis, where=ones)
                np.testing.assert_allclose(a, b, rtol=4 * np.finfo(dtype).eps, atol=0)


def ulp_table():
    """Max ULP per (variant, dtype) over rows of 1 .. 10^6 entries uniform in +-50, last axis
    and axis 0 (the figures quoted in src_c/reductions/, fa_reductions.h).  Rows above 5000 entries
    run on the best variant only."""
    for isa in fa.simd_info()["available"]:
        fa.set_isa(isa)
        for dtype in (F32, F64):
            worst = np.zeros(3)
            for n, rows in ((1, 64), (2, 64), (3, 64), (7, 64), (10, 64), (100, 32), (1000, 16), (4097, 4),
                            (100_000, 1), (1_000_000, 1)):
                if n > 5000 and isa != fa.simd_info()["best"]:
                    continue
                x = np.random.default_rng(n).uniform(-50, 50, (rows, n)).astype(dtype)
                ref = mp_reference if n <= 100 else ld_reference
                worst = np.maximum(worst, max_ulps(x, -1, dtype, ref))
                if n <= 5000:
                    worst = np.maximum(worst, max_ulps(np.ascontiguousarray(x.T), 0, dtype, ref))
            print(f"{isa:7s} {np.dtype(dtype).name}: logsumexp {worst[0]:.2f}  softmax {worst[1]:.2f}  "
                  f"log_softmax {worst[2]:.2f} ULP", flush=True)
    fa.set_isa("best")


if __name__ == "__main__":   # PYTHONPATH=.:tests python tests/test_reductions.py
    ulp_table()


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("n", (0, 1, 5))
def test_full_reduction_of_1d_along_its_axis_is_a_numpy_scalar(dtype, n):
    """logsumexp(1-D, axis=0 / -1) is a full reduction: a NumPy scalar, as SciPy returns (the
    fuzz test found the fast path returning a 0-d array)."""
    scipy_special = pytest.importorskip("scipy.special")
    a = np.linspace(-1, 1, n).astype(dtype)
    for axis in (0, -1, None, (0,)):
        got = fa.logsumexp(a, axis=axis)
        want = scipy_special.logsumexp(a, axis=axis)
        assert isinstance(got, np.generic) and type(got) is type(want), (axis, type(got), type(want))
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps)



@pytest.mark.parametrize("where", [False, True])
def test_log_softmax_and_cross_entropy_of_a_dominant_entry_with_tiny_l(isa, where):
    """float32 rows with a logit gap above ~55 (l = log1p(T) below 2^-80): the statistics
    pass counts terms below 2^-127.5 e^M as 0, which was 10.9 ULP (log_softmax) and 2.3e6 ULP
    (cross_entropy) off at the dominant entry; such rows now get T exactly (fa_sm_tiny_l_f32).
    Rows found by the row-kind test ('spread': uniform(-120, 60)); mpmath reference."""
    x = np.array([[-42.3712997, -64.5070343, -56.0458679, -104.067024, 44.2009544],
                  [-79.7867050, -117.837540, 27.1049957, 33.6147575, 54.3196106],
                  [-50.0, -119.0, -60.0, -70.0, 59.0]], np.float32)
    rng = np.random.default_rng(3)
    x = np.concatenate([x, rng.uniform(-120, 60, (40, 5)).astype(np.float32)])
    mask = np.ones(x.shape, bool)
    if where:
        mask[:, 2] = False
    xm = np.where(mask, x, -np.inf)
    _, _, (qh, ql) = mp_reference(xm)
    fin = np.isfinite(qh)
    q = fa.log_softmax(x, axis=-1, where=mask if where else None)
    assert ulp_errors(q[fin], qh[fin], ql[fin], F32).max() <= SOFTMAX_ULP
    if not where:
        t = np.argmax(x, axis=-1)
        rows = np.arange(len(x))
        loss = fa.cross_entropy(x, t, reduction="none")
        assert ulp_errors(loss, -qh[rows, t], -ql[rows, t], F32).max() <= 4


# ---------------------------------------------------------------- one long slice
# A slice of >= 2^18 contiguous entries (axis=None, (1, n) along the last axis, (n, 1) along
# axis 0) is cut into blocks of 2^16 whose statistics are combined (src_c/fa_slice_blocks.c).
LONG_SLICE_N = (1 << 18) + 4321


def long_slice_kinds():
    rng = np.random.default_rng(21)
    base = rng.normal(0, 3, LONG_SLICE_N)
    peaked = base.copy()
    peaked[200_000] += 40.0                  # one dominant entry, in the fourth block
    tail_max = base - 30.0
    tail_max[-5] = 8.0                       # the max in the short last block
    return {"normal3": base, "normal3-20": base - 20.0, "normal3+100": base + 100.0,
            "peaked": peaked, "max-in-last-block": tail_max, "wide": rng.uniform(-300, 300, LONG_SLICE_N)}


@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
@pytest.mark.parametrize("dtype", [F32, F64])
def test_one_long_slice_accuracy(isa, dtype):
    for kind, x64 in long_slice_kinds().items():
        x = x64.astype(dtype)
        (lh, ll), (sh, sl), (qh, ql) = ld_reference(x.reshape(1, -1))
        for arr, axis in ((x, None), (x.reshape(1, -1), -1), (x.reshape(-1, 1), 0)):
            lse = np.asarray(fa.logsumexp(arr, axis=axis)).reshape(-1)
            assert ulp_errors(lse, lh, ll, dtype).max() <= LSE_ULP, (kind, axis)
            assert ulp_errors(fa.softmax(arr, axis=axis).reshape(1, -1), sh, sl, dtype).max() <= SOFTMAX_ULP, (kind, axis)
            assert ulp_errors(fa.log_softmax(arr, axis=axis).reshape(1, -1), qh, ql, dtype).max() <= SOFTMAX_ULP, (kind, axis)


@pytest.fixture(scope="module")
def normalised_long_slice():
    """log-probabilities re-normalised in float64 and their exact logsumexp (mpmath)."""
    rng = np.random.default_rng(22)
    x = rng.normal(0, 3, LONG_SLICE_N)
    x = x - np.log(np.sum(np.exp(x - x.max()))) - x.max()
    refs = {}
    for dtype in (F32, F64):
        xd = x.astype(dtype)
        with mpmath.workdps(40):
            v = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(t))) for t in xd))
        refs[dtype] = (xd, v)
    return refs


@pytest.mark.parametrize("dtype", [F32, F64])
def test_one_long_slice_that_cancels(isa, dtype, normalised_long_slice):
    """logsumexp of normalised log-probabilities over one long slice (result ~1e-8 / ~1e-16):
    the blocks' exact shift-0 sums are combined, as for rows (docs/SPEC.md, Status)."""
    x, v = normalised_long_slice[dtype]
    got = float(fa.logsumexp(x))
    hi = float(v)
    lo = float(v - mpmath.mpf(hi))
    if dtype == F32 or abs(hi) >= 2.0 ** -25:
        assert ulp_errors(np.array([got], dtype), np.array([hi]), np.array([lo]), dtype).max() <= LSE_ULP
    else:
        assert abs(mpmath.mpf(got) - v) <= 2.0 ** -70, (got, hi)


def weighted_long_slice_near_zero(dtype, seed):
    """A long slice with signed weights whose logsumexp is near 0, and its mpmath value: a few
    entries that matter (the first block: x = 0.298 with weight 0.5, its own M + log S < 0 with
    M > 0; the others spread over the later blocks, some weights < 0, among them pairs whose
    terms cancel exactly), the rest filler that does not (x = -60, w = 1e-3 and x = -90,
    w = 0.7: a block of it ends below e^-60); some filler masked out; seed None: the fuzz row's entries instead.  Returns x, b, where, and
    (hi, lo, sign) of the reference."""
    rng = np.random.default_rng(99 if seed is None else seed)
    n = LONG_SLICE_N
    x = np.full(n, -60.0)
    b = np.full(n, 1e-3)
    x[2 * (1 << 16):3 * (1 << 16)] = -90.0                  # the third block: all filler at -90
    b[2 * (1 << 16):3 * (1 << 16)] = 0.7
    where = rng.random(n) < 0.9
    if seed is None:               # the differential fuzz's row: 1205 ULP (float32 16) before
        at = np.array([0, 70_000, 70_001, 70_002, 70_003, 70_004])
        x[at] = [0.29824349709890946, 1.317799191438088, -1.3863917527219458, 2.811782634296871,
                 1.5590471847530152, 5.058315976364648]
        b[at], where[at] = [0.5, 2.0, 0.0, -1.0, 2.0, 0.0], True
    else:
        spots = np.concatenate([np.arange(70_000, 2 << 16), np.arange(3 << 16, n)])   # not the third block
        at = np.concatenate([[0], rng.choice(spots, 30, replace=False)])
        xs = np.concatenate([[0.29824349709890946], rng.normal(0, 2, 30)])
        ws = np.concatenate([[0.5], rng.choice([2.0, -1.0, 0.5, -0.25, 1.5], 30)])
        # the others' sum r = e^c - 0.5 e^0.298, so that the total is e^c
        r = np.exp(rng.choice([-1.0, 1.0]) * 10.0 ** rng.uniform(-3, 0)) - ws[0] * np.exp(xs[0])
        s = np.sum(ws[1:] * np.exp(xs[1:]))
        ws[1:] *= np.sign(r) * np.sign(s)
        xs[1:] += np.log(abs(r) / abs(s))
        x[at], b[at], where[at] = xs, ws, True
        # and pairs that cancel exactly (e^5.5 - e^5.5, 1e-12 (e^5.75 - e^5.75)) across the second
        # and last blocks: M = 5.75 there, e^(5.5 - M) rounded, and M + log S cancels to v
        pairs = [(1 << 16) + 5, n - 7, (1 << 16) + 9, n - 3]
        x[pairs], b[pairs], where[pairs] = [5.5, 5.5, 5.75, 5.75], [1.0, -1.0, 1e-12, -1e-12], True
        at = np.concatenate([at, pairs])
    x, b = x.astype(dtype), b.astype(dtype)
    with mpmath.workdps(50):
        total = mpmath.fsum(mpmath.mpf(float(b[k])) * mpmath.exp(mpmath.mpf(float(x[k]))) for k in at)
        for fill_x, fill_w in ((-60.0, 1e-3), (-90.0, 0.7)):
            fx, fw = dtype(fill_x), dtype(fill_w)
            count = int(np.sum(where & (x == fx) & (b == fw)))
            total += count * mpmath.mpf(float(fw)) * mpmath.exp(mpmath.mpf(float(fx)))
        v = mpmath.log(abs(total))
        hi = float(v)
        lo = float(v - mpmath.mpf(hi))
    return x, b, where, (np.array([hi]), np.array([lo]), 1.0 if total > 0 else -1.0)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_one_long_slice_signed_weights_near_zero(isa, dtype):
    """logsumexp of one long slice with signed weights whose result is near 0 (|v| in
    [1e-3, 1)): every weighted block sums S0, as the Dask chunks do (a block cannot tell
    whether another block's weights take the total near 0; M + log S was ~1200 ULP off)."""
    for seed in (None, 0, 1, 2):
        x, b, where, (hi, lo, sign) = weighted_long_slice_near_zero(dtype, seed)
        assert 1e-3 <= abs(hi[0]) < 1.0
        v, s = fa.logsumexp(x, b=b, where=where, return_sign=True)
        assert s == sign
        assert ulp_errors(np.array([v], dtype), hi, lo, dtype).max() <= LSE_ULP, (seed, v, hi)
        vm, _ = fa.logsumexp(x, b=np.where(where, b, 0), return_sign=True)    # no mask: b = 0 instead
        assert ulp_errors(np.array([vm], dtype), hi, lo, dtype).max() <= LSE_ULP, (seed, vm, hi)


@pytest.mark.skipif(not LONGDOUBLE_OK, reason="long double is not 80-bit here")
@pytest.mark.parametrize("dtype", [F32, F64])
def test_one_long_slice_where_b_and_sign(isa, dtype):
    rng = np.random.default_rng(23)
    x = rng.normal(0, 3, LONG_SLICE_N).astype(dtype)
    where = rng.random(LONG_SLICE_N) < 0.6
    kept = x[where].reshape(1, -1)
    (lh, ll), (sh, sl), (qh, ql) = ld_reference(kept)
    assert ulp_errors(np.array([fa.logsumexp(x, where=where)]), lh, ll, dtype).max() <= LSE_ULP
    y = fa.softmax(x, where=where)
    assert np.all(y[~where] == 0) and ulp_errors(y[where], sh[0], sl[0], dtype).max() <= SOFTMAX_ULP
    q = fa.log_softmax(x, where=where)
    assert np.all(q[~where] == -np.inf) and ulp_errors(q[where], qh[0], ql[0], dtype).max() <= SOFTMAX_ULP
    # weights of both signs: |sum b e^x| and its sign, against a long double sum
    b = rng.uniform(-1, 1.5, LONG_SLICE_N).astype(dtype)
    xl, bl = x.astype(np.longdouble), b.astype(np.longdouble)
    m = xl.max()
    total = np.sum(bl * np.exp(xl - m))
    ref = m + np.log(np.abs(total))
    rh = np.array([float(ref)])
    rl = np.array([float(ref - np.longdouble(rh[0]))])
    v, sign = fa.logsumexp(x, b=b, return_sign=True)
    assert sign == np.sign(float(total))
    assert ulp_errors(np.array([v], dtype), rh, rl, dtype).max() <= LSE_ULP
    if total < 0:
        with np.errstate(invalid="ignore"):
            assert np.isnan(fa.logsumexp(x, b=b))


@pytest.mark.parametrize("dtype", [F32, F64])
def test_one_long_slice_special_values(isa, dtype):
    x = np.random.default_rng(24).normal(0, 3, LONG_SLICE_N).astype(dtype)
    cases = {"nan": (-3, np.nan), "inf": (70_000, np.inf)}
    for name, (at, value) in cases.items():
        y = x.copy()
        y[at] = value
        lse = fa.logsumexp(y)
        assert (np.isnan(lse) if name == "nan" else lse == np.inf)
        assert np.all(np.isnan(fa.softmax(y))) and np.all(np.isnan(fa.log_softmax(y)))
    y = np.full(LONG_SLICE_N, -np.inf, dtype)
    assert fa.logsumexp(y) == -np.inf
    assert fa.logsumexp(y, return_sign=True)[1] == 0
    assert np.all(np.isnan(fa.softmax(y))) and np.all(np.isnan(fa.log_softmax(y)))
    none = np.zeros(LONG_SLICE_N, bool)
    assert fa.logsumexp(x, where=none) == -np.inf
    assert np.all(fa.softmax(x, where=none) == 0) and np.all(fa.log_softmax(x, where=none) == -np.inf)
    # -inf entries: softmax 0 / log_softmax -inf there, the rest within the bound
    y = x.copy()
    y[::5] = -np.inf
    assert np.all(fa.softmax(y)[::5] == 0) and np.all(fa.log_softmax(y)[::5] == -np.inf)


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("n", [2, 4, 16, 1024])
def test_softmax_results_in_the_subnormal_range(isa, dtype, n):
    """Entries far below the max (softmax results in the subnormals, and terms that round to 0)
    and -inf entries, on every row layout and as columns: SPEC section 6 bounds (subnormal results exact within
    one smallest normal), float64 subnormal results within one subnormal spacing, whichever way
    the kernel builds them (math/: below 2^-1000 on the integer side, so that no instruction
    underflows, a microcode assist per instruction on Intel cores; the -inf lanes left out of
    the exp's keep mask).  Reference: longdouble (64-bit
    significand: x - M is exact, e^(x - M) to 2^-63) rounded to the dtype."""
    rng = np.random.default_rng(zlib.crc32(f"subnormal softmax {n}".encode()))
    rows = max(64, 8192 // n)
    lo, hi = (-104.0, -85.0) if dtype is F32 else (-746.0, -705.0)
    x = rng.normal(0.0, 1.0, (rows, n))
    far = rng.uniform(size=x.shape) < 0.4
    x[far] = rng.uniform(lo, hi, far.sum())
    x[rng.uniform(size=x.shape) < 0.1] = -np.inf
    x[:, 0] = 1.0                                          # every row keeps a finite max
    x = x.astype(dtype)
    xl = x.astype(np.longdouble)
    M = xl.max(axis=-1, keepdims=True)
    e = np.exp(xl - M)
    S = e.sum(axis=-1, keepdims=True)
    y = fa.softmax(x, axis=-1)

    def pair(r):                                       # longdouble -> (hi, lo) for ulp_errors
        h = r.astype(np.float64)
        with np.errstate(invalid="ignore"):             # -inf - -inf at the -inf entries
            return h, np.nan_to_num((r - h).astype(np.float64), nan=0.0)

    sh, sl = pair(e / S)
    sub = (sh > 0) & (sh < np.finfo(dtype).tiny)
    assert sub.sum() > 0.05 * x.size                       # the subnormal results are there
    assert (y[x == -np.inf] == 0).all()
    assert ulp_errors(y, sh, sl, dtype).max() <= SOFTMAX_ULP          # SPEC section 6
    if dtype is F64:      # float64 subnormal results: em rounded, then once into the subnormals
        assert ulp_errors(y[sub], sh[sub], sl[sub], dtype, subnormal="rounded").max() <= 1.0
    lh, ll = pair(M[:, 0] + np.log(S[:, 0]))
    assert ulp_errors(fa.logsumexp(x, axis=-1), lh, ll, dtype).max() <= LSE_ULP
    qh, ql = pair(xl - M - np.log(S))
    lsm = fa.log_softmax(x, axis=-1)
    assert ulp_errors(lsm, qh, ql, dtype).max() <= SOFTMAX_ULP
    assert (lsm[x == -np.inf] == -np.inf).all()
    xt = np.ascontiguousarray(x.T)                          # the same slices as columns (axis=0)
    assert ulp_errors(fa.softmax(xt, axis=0).T, sh, sl, dtype).max() <= SOFTMAX_ULP
    assert ulp_errors(fa.log_softmax(xt, axis=0).T, qh, ql, dtype).max() <= SOFTMAX_ULP
    assert ulp_errors(fa.logsumexp(xt, axis=0), lh, ll, dtype).max() <= LSE_ULP


@pytest.mark.parametrize("n", [1000, 5000, 70000])
def test_float64_log_weight_rows(isa, n):
    """Rows of float64 log-weights spread over +-800 (a particle filter's or an importance
    sampler's): many softmax outputs in the subnormals, made without a subnormal operand or
    result (fa_sm64_times_factor: an Intel core takes a microcode assist per such instruction,
    and these rows took 5x their N(0, 3) time), on the stored path (n <= 65536) and the direct
    output pass (70000), plus a row whose second chunk lies wholly 700-1500 below the max (its
    chunk factor below 2^-1000).  Each output within SPEC section 6's bound, subnormal ones
    within one subnormal spacing; cross_entropy_grad (its factor 1/N folded into the sum) within
    4 ULP of (softmax - onehot) / N, two spacings in the subnormals.  Reference: longdouble with
    the max at 0, so x - M is exact."""
    rng = np.random.default_rng(zlib.crc32(f"log weights {n}".encode()))
    rows = max(4, 40000 // n)
    x = rng.uniform(-800.0, 0.0, (rows, n))
    x[:, 0] = 0.0
    x[1, min(2048, n // 2):4096] = rng.uniform(-1500.0, -700.0, min(2048, n - n // 2))
    x[2, 1::7] = -np.inf
    xl = x.astype(np.longdouble)
    e = np.exp(xl)
    r = e / e.sum(axis=-1, keepdims=True)
    h = r.astype(np.float64)
    lo = np.nan_to_num((r - h).astype(np.float64))
    sub = (h > 0) & (h < np.finfo(F64).tiny)
    assert sub.sum() > 0.02 * x.size
    y = fa.softmax(x, axis=-1)
    assert ulp_errors(y, h, lo, F64).max() <= SOFTMAX_ULP
    assert ulp_errors(y[sub], h[sub], lo[sub], F64, subnormal="rounded").max() <= 1.0
    assert (y[2, 1::7] == 0).all()
    z = x.copy()                                           # in place: the outputs overwrite x
    assert fa.softmax(z, axis=-1, out=z) is z
    assert ulp_errors(z, h, lo, F64).max() <= SOFTMAX_ULP
    assert ulp_errors(z[sub], h[sub], lo[sub], F64, subnormal="rounded").max() <= 1.0
    t = rng.integers(0, n, rows)
    g = fa.cross_entropy_grad(x, t)
    gr = r / rows
    gr[np.arange(rows), t] -= 1.0 / rows
    gh = gr.astype(np.float64)
    gl = np.nan_to_num((gr - gh).astype(np.float64))
    gsub = (np.abs(gh) > 0) & (np.abs(gh) < np.finfo(F64).tiny)
    assert ulp_errors(g, gh, gl, F64).max() <= SOFTMAX_ULP
    assert ulp_errors(g[gsub], gh[gsub], gl[gsub], F64, subnormal="rounded").max() <= 2.0


@pytest.mark.parametrize("n", [7, 1000, 5000, 70001])
def test_float64_terms_640_to_770_below_the_max(isa, n):
    """float64 rows whose entries other than the max lie 700-770 below it: every term e^(x - M)
    is below 2^-1009 (and a row 640-700 below: softmax outputs where the product by 1/S took a
    recomputing branch before), so the statistics T = sum over the entries below the max is what decides
    logsumexp (the max 0: the result is T itself, a subnormal) and log_softmax's max entry (-T
    for any max).  The statistics pass sums such terms at a biased scale where each is a normal
    number (FA_EXP_SHIFT_BIASED: no subnormal operand, no branch), softmax's stored terms too
    (fa_sm64_unbias_times rounds the outputs into the subnormals on the integer side).  Held to
    SPEC section 6 with no subnormal exemption (lse 2, log_softmax 4 spacings), on one and
    several chunks, the direct output pass (70001), -inf entries and where=.  Reference:
    longdouble (x - M exact: |x - M| < 2^11 |M| or M = 0)."""
    rng = np.random.default_rng(zlib.crc32(f"band {n}".encode()))
    for c in (0.0, 5.0, -650.0):
        x = c - rng.uniform(700.0, 770.0, (6, n))
        x[:, 0] = c
        x[1, 1] = c - 699.5                                # one term above the band
        x[2, 1::5] = -np.inf
        x[3, :n // 2] = c - rng.uniform(0.0, 3.0, n // 2)  # half the row near the max
        x[3, 0] = c
        x[4, 1:] = c - rng.uniform(640.0, 700.0, n - 1)
        keep = rng.uniform(size=x.shape) < 0.9
        keep[:, 0] = True
        for where in (None, keep):
            xl = x.astype(np.longdouble)
            if where is not None:
                xl = np.where(where, xl, -np.inf)
            with np.errstate(divide="ignore"):
                e = np.exp(xl - c)
            e[:, 0] = 0.0
            T = e.sum(axis=-1)
            lh = (c + np.log1p(T)).astype(np.float64)
            ll = ((c + np.log1p(T)) - lh).astype(np.float64)
            got = fa.logsumexp(x, axis=-1, where=where) if where is not None else fa.logsumexp(x, axis=-1)
            assert ulp_errors(got, lh, ll, F64, subnormal="rounded").max() <= LSE_ULP, (c, where is None)
            ls = fa.log_softmax(x, axis=-1, where=where) if where is not None else fa.log_softmax(x, axis=-1)
            with np.errstate(invalid="ignore"):
                q = (xl - c) - np.log1p(T)[:, None]
                qh = q.astype(np.float64)
                ql = np.nan_to_num((q - qh).astype(np.float64))
            assert ulp_errors(ls, qh, ql, F64, subnormal="rounded").max() <= SOFTMAX_ULP, (c, where is None)
            assert (ls[:, 0] < 0).all()                    # -T, not 0
            r = np.exp(xl - c) / (1.0 + T)[:, None]
            rh = r.astype(np.float64)
            rl = np.nan_to_num((r - rh).astype(np.float64))
            sm = fa.softmax(x, axis=-1, where=where) if where is not None else fa.softmax(x, axis=-1)
            assert ulp_errors(sm, rh, rl, F64).max() <= SOFTMAX_ULP
            sub = (rh > 0) & (rh < np.finfo(F64).tiny)
            assert ulp_errors(sm[sub], rh[sub], rl[sub], F64, subnormal="rounded").max() <= 1.0


@pytest.mark.parametrize("n", [5, 16, 64, 1000, 5000, 70000])
def test_float32_rows_beyond_the_exp_range(isa, n):
    """float32 rows whose max lies outside the float32 exp's exact reduction (-260, 340): the
    statistics pass sums such a chunk as x - mx in the float32 lanes (fa_stats_chunk_f32) and
    softmax's output pass as x - M (fa_out_row_f32), where these rows took the float64 lanes
    at 2.5-3.5x their N(0, 3) time; short rows (16, 64: the group layout, fa_short_shifts_f32;
    5: the closed form) the same way, where they took the per-row code at 2.6-4.5x, and the
    same slices as columns (fa_col_stats_f32.h's far lanes).  Rows: uniform +-800 (chunks near and far), N(0, 3) at
    +-1000 and -3e4, a row whose first chunk's max is 300 (near) and a later one's 420 (far), a
    row with -inf entries; each function, with where= and in place, within SPEC section 6
    (float32 subnormal outputs within one smallest normal, ulp_errors); cross_entropy_grad with
    label smoothing (its fused sums pass) within 4 ULP of the larger of softmax and the
    subtracted term (the entries cancel: softmax ~ the smoothing term)."""
    rng = np.random.default_rng(zlib.crc32(f"beyond {n}".encode()))
    x = rng.standard_normal((6, n)) * 3
    x[0] = rng.uniform(-800.0, 800.0, n)
    x[1] += 1000.0
    x[2] -= 1000.0
    x[3] = x[3] * 100 - 3e4
    x[4, : n // 2] += 300.0
    x[4, n // 2:] += 420.0
    x[5] = rng.uniform(-800.0, -300.0, n)
    x[5, 2::5] = -np.inf
    x = x.astype(F32)
    (lh, ll), (sh, sl), (qh, ql) = ld_reference(np.where(np.isinf(x), -1e6, x))
    assert ulp_errors(fa.logsumexp(x, axis=-1), lh, ll, F32).max() <= LSE_ULP
    assert ulp_errors(fa.softmax(x, axis=-1), sh, sl, F32).max() <= SOFTMAX_ULP
    keep = x > -np.inf
    q = fa.log_softmax(x, axis=-1)
    assert (q[~keep] == -np.inf).all() and ulp_errors(q[keep], qh[keep], ql[keep], F32).max() <= SOFTMAX_ULP
    for f, (h, lo) in ((fa.softmax, (sh, sl)), (fa.log_softmax, (qh, ql))):
        z = x.copy()
        assert f(z, axis=-1, out=z) is z
        assert ulp_errors(z[keep], h[keep], lo[keep], F32).max() <= SOFTMAX_ULP
    xt = np.ascontiguousarray(x.T)                # as columns (axis=0: the far lanes as x - M)
    assert ulp_errors(fa.logsumexp(xt, axis=0), lh, ll, F32).max() <= LSE_ULP
    assert ulp_errors(fa.softmax(xt, axis=0).T, sh, sl, F32).max() <= SOFTMAX_ULP
    assert ulp_errors(fa.log_softmax(xt, axis=0).T[keep], qh[keep], ql[keep], F32).max() <= SOFTMAX_ULP
    where = rng.random(x.shape) < 0.9
    where[:, min(7, n - 1)] = True
    xm = np.where(where, x, -np.inf)
    (mh, ml), (msh, msl), _ = ld_reference(np.where(np.isinf(xm), -1e6, xm))
    assert ulp_errors(fa.logsumexp(x, axis=-1, where=where), mh, ml, F32).max() <= LSE_ULP
    ym = fa.softmax(x, axis=-1, where=where)
    assert ulp_errors(ym[where], msh[where], msl[where], F32).max() <= SOFTMAX_ULP
    t = rng.integers(0, n, 6)
    t[5] = 0                                                 # x[5, 0] is finite
    g = fa.cross_entropy_grad(x, t, reduction="sum", label_smoothing=0.1)
    cn = keep.sum(axis=1, keepdims=True)
    r = sh.astype(np.longdouble) + sl - np.where(keep, 0.1 / cn, 0)
    r[np.arange(6), t] -= 0.9
    scale = np.maximum(np.maximum(sh, 0.1 / cn), np.abs(r.astype(np.float64))).astype(F32)
    assert (np.abs(g - r) <= SOFTMAX_ULP * np.spacing(scale).astype(np.longdouble)).all()   # terms' ULPs


@pytest.mark.parametrize("masked", [False, True], ids=["all", "where"])
@pytest.mark.parametrize("M", [0.0, 100.0, -3e4])
def test_float32_columns_with_one_dominant_entry(isa, M, masked):
    """float32 columns (axis=0) whose max lies 80 above the next entry and 88-100 above the
    rest: l = log1p(T) ~ e^-80, and the terms the statistics count as 0 (below 2^-127.5 of
    the shift) are a few thousandths of it.  The max entry's log_softmax -l and logsumexp
    M + l (M = 0: l itself) within SPEC section 6 (they were 0.6% off: the column path had no
    exact recount of T, which the rows have; now fa_sm_cols_tiny_l_f32, 8 columns at a time);
    M = -3e4 the columns summed as x - M.  43 columns: a block's last group of 3; where=
    leaves out 10% of the entries below the max (the recount skips them too), every third
    column keeps its usual l (a second entry 20 below: the recount leaves it alone).
    Reference: mpmath, 50 digits."""
    mp = mpmath
    rng = np.random.default_rng(11)
    x = (M - rng.uniform(88.0, 100.0, (200, 43))).astype(F32)
    x[0] = M
    x[1] = (M - rng.uniform(79.0, 81.0, 43)).astype(F32)
    x[2, ::3] = (M - 20.0)
    where = rng.random(x.shape) >= 0.1 if masked else np.ones(x.shape, bool)
    where[:3] = True
    kw = {"where": where} if masked else {}
    got_q = fa.log_softmax(x, axis=0, **kw)[0]
    got_l = fa.logsumexp(x, axis=0, **kw)
    for c in range(x.shape[1]):
        with mp.workdps(50):
            T = mp.fsum([mp.exp(mp.mpf(float(v)) - mp.mpf(float(M))) for v in x[1:, c][where[1:, c]]])
            lq = -mp.log1p(T)
            ll = mp.mpf(float(M)) + mp.log1p(T)
            qh, lh = float(lq), float(ll)
            qr, lr = float(lq - mp.mpf(qh)), float(ll - mp.mpf(lh))
        assert ulp_errors(got_q[c:c + 1], np.array([qh]), np.array([qr]), F32).max() <= SOFTMAX_ULP
        assert ulp_errors(got_l[c:c + 1], np.array([lh]), np.array([lr]), F32).max() <= LSE_ULP


def test_float32_columns_far_below_a_low_max(isa):
    """float32 columns whose max lies in [-80, -44] (the unshifted column path) with entries
    below -150: each output e^(x - M)/S, normal or subnormal, to SPEC section 6.  The path
    clamped x at -150 absolute, so an entry at -151 under a max of -69 came out as e^-81 for
    e^-82 (2.7x too large)."""
    rng = np.random.default_rng(7)
    x = np.empty((64, 256), F32)
    M = np.concatenate([rng.uniform(-68.0, -63.0, 128), rng.uniform(-80.0, -44.0, 128)]).astype(F32)
    x[:] = M
    x[1:, :128] = rng.uniform(-152.0, -150.25, (63, 128))     # x - M in (-89, -82): normal outputs
    x[1:, 128:] = rng.uniform(-170.0, -150.25, (63, 128))
    x[5] = -np.inf
    xl = x.astype(np.longdouble)
    e = np.exp(xl - xl.max(axis=0))
    r = e / e.sum(axis=0)
    h = r.astype(np.float64)
    y = fa.softmax(x, axis=0)
    assert ulp_errors(y, h, np.nan_to_num((r - h).astype(np.float64)), F32).max() <= SOFTMAX_ULP
    assert (y[5] == 0).all() and (y[(x - M) < -104] <= np.finfo(F32).smallest_subnormal).all()


@pytest.mark.parametrize("dtype", [F32, F64])
def test_softmax_in_place_gives_the_out_of_place_bits(isa, dtype):
    """softmax(x, out=x) is the same bits as softmax(x), with or without where=, for float64 rows
    and float32 rows past 1024 entries (float32 rows the stored-terms path takes went through
    statistics + output in place: 1-3 ULP apart; third differential fuzz).  float32 rows of up
    to 1024 entries keep statistics + output in place (faster there; within the bound)."""
    rng = np.random.default_rng(17)
    for n in ((3, 17, 100, 1000, 1024) if dtype == F64 else ()) + (1025, 5000, 65536, 70000):
        x = rng.normal(0, 3, (3, n)).astype(dtype)
        x[1, ::7] = -np.inf
        where = rng.random(x.shape) < 0.8
        for kw in ({}, {"where": where}):
            want = fa.softmax(x, axis=-1, **kw)
            y = x.copy()
            fa.softmax(y, axis=-1, out=y, **kw)
            assert want.tobytes() == y.tobytes(), (n, kw.keys(), int(np.sum(want != y)))
