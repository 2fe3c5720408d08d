"""The C stages of a reduction along a chunked axis (src_c/reductions/fa_chunk_stats.h through
fastact/_chunk_stats.py), without Dask: rows cut into uneven chunks (one empty), each chunk's
statistics, the combine, and the results, on every kernel variant, against

  - mpmath at 50 digits (logsumexp <= 2 ULP, softmax / log_softmax <= 4 ULP: docs/SPEC.md
    section 6, with its float64 exception for results below 2^-25 that cancel), and
  - the former NumPy implementation (tests/chunk_stats_reference.py): the same maxima,
    counts and flags exactly, the same sums to float64 rounding.
Special rows (NaN, +inf, all -inf, a chunk of -inf, nothing kept) must give the in-memory
function's special values.
"""
import numpy as np
import pytest

import chunk_stats_reference as ref
import fastact as fa
from fastact import _chunk_stats as cs
from ulp import mp_lse_rows, mp_softmax_rows, ulp_errors

pytest.importorskip("mpmath")   # the row references (tests/ulp.py) use it

CHUNKS = (7, 13, 0, 20)                 # uneven, with an empty chunk: 40 columns


def rows_matrix(dtype, seed=0):
    """(12, 40): normal rows, a chunk of -inf, NaN, all -inf, +inf, a dominant entry,
    log-probabilities (logsumexp ~1e-6 and ~0), a wide range, M < 0 < logsumexp."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 15, (12, 40))
    x[1, 7:20] = -np.inf
    x[2, 25] = np.nan
    x[3, :] = -np.inf
    x[4, 30] = np.inf
    x[5] = rng.uniform(-80, -40, 40)
    x[5, 33] = 0.0
    for r in (6, 7):
        p = rng.uniform(0.1, 1, 40)
        x[r] = np.log(p / p.sum()) + (1e-6 if r == 6 else 0.0)
    x[8] = rng.uniform(-1e4, 1e4, 40)
    x[9] = rng.uniform(-5, -3, 40)
    return x.astype(dtype)


def pieces(a, chunks=CHUNKS):
    """a (rows, 40) cut into the chunks of CHUNKS (or chunks), each as an (rows, n, 1) block
    (None stays)."""
    if a is None:
        return [None] * len(chunks)
    edges = np.cumsum((0,) + tuple(chunks))
    return [np.ascontiguousarray(a[:, edges[i]:edges[i + 1]])[:, :, None] for i in range(len(chunks))]


def c_path(x, mask=None, b=None, return_sign=False, chunks=CHUNKS):
    """logsumexp (v, sign), softmax, log_softmax of the rows of x through the C stages."""
    xs, ms, bs = pieces(x, chunks), pieces(mask, chunks), pieces(b, chunks)
    recs = np.stack([cs.chunk_statistics(xc, mc, bc, exact=True)[:, 0] for xc, mc, bc in zip(xs, ms, bs)], -1)
    st = cs.combine(recs)
    v, sign = cs.logsumexp_from_stats(st, return_sign=return_sign)
    sm = np.concatenate([cs.softmax_from_stats(xc, st[:, None], mc)[:, :, 0] for xc, mc in zip(xs, ms)], 1)
    ls = np.concatenate([cs.softmax_from_stats(xc, st[:, None], mc, log=True)[:, :, 0]
                         for xc, mc in zip(xs, ms)], 1)
    return recs, st, v, sign, sm, ls


def reference_path(x, mask=None, b=None, return_sign=False):
    """The same through the NumPy reference (its functions' contract)."""
    parts = []
    for xc, mc, bc in zip(pieces(x), pieces(mask), pieces(b)):
        M, count, infsign = ref.row_max(xc, mc, bc)
        hi, lo = ref.sum_exp_shifted(xc, M, mc, bc)
        h0, l0 = ref.sum_exp_shifted(xc, np.zeros_like(M), mc, bc, exact=True)
        parts.append((M[:, 0], count[:, 0], infsign[:, 0], hi[:, 0], lo[:, 0], h0[:, 0], l0[:, 0]))
    M_c, count, infsign, hi, lo, h0, l0 = (np.stack(f, -1) for f in zip(*parts))
    M = np.max(M_c, axis=-1)
    with np.errstate(invalid="ignore"):
        h, l = ref.rescale(M_c, hi, lo, M[:, None])
    H, L = ref.dd_sum(h, l, -1)
    H0, L0 = ref.dd_sum(h0, l0, -1)
    v, sign = ref.logsumexp_from_stats(M, count.sum(-1), np.bitwise_or.reduce(infsign, -1), H, L, H0, L0,
                                       return_sign=return_sign)
    return dict(M=M_c, count=count, infsign=infsign, S=hi + lo), v, sign


def assert_lse_accuracy(got, hi, lo, dtype):
    """<= 2 ULP, or docs/SPEC.md's float64 exception (|result| < 2^-25: ~2^-81 absolute, asserted 2^-80)."""
    err = ulp_errors(got.astype(dtype), hi, lo, dtype)
    tiny = (np.dtype(dtype) == np.float64) & (np.abs(hi) < 2.0 ** -25)
    assert err[~tiny].max(initial=0.0) <= 2.0
    assert np.all(np.abs((got - hi) - lo)[tiny] <= 2.0 ** -80)


def assert_same_specials(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    inf = np.isinf(want) | np.isinf(got)
    assert np.array_equal(got[inf], want[inf])


def finite_rows(x, keep=None):
    ok = np.all(np.isfinite(x) | (keep is not None and ~keep), axis=1)
    return ok if keep is None else ok & keep.any(axis=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stages_against_mpmath_reference_and_memory(isa, dtype):
    x = rows_matrix(dtype)
    recs, st, v, sign, sm, ls = c_path(x)
    # the per-chunk statistics: the reference's maxima, counts, flags exactly; sums to rounding
    want, rv, rsign = reference_path(x)
    assert np.array_equal(recs["M"], want["M"], equal_nan=True)
    assert np.array_equal(recs["count"], want["count"])
    assert np.array_equal(recs["infsign"] & 3, want["infsign"])
    fin = np.isfinite(recs["M"])
    S = recs["hi"] + recs["lo"]
    # float32 rows: terms in float32 lanes (fa_stats_f32.h), ~1 float32 ULP each
    assert np.allclose(S[fin], want["S"][fin], rtol=2.0 ** -20 if dtype == np.float32 else 1e-14, atol=0)
    # the results: the in-memory special values, mpmath's values
    compute = np.float64 if dtype == np.float64 else np.float32
    assert_same_specials(v.astype(compute), fa.logsumexp(x, axis=1))
    assert_same_specials(rv.astype(compute), v.astype(compute))
    assert_same_specials(sm, fa.softmax(x, axis=1))
    assert_same_specials(ls, fa.log_softmax(x, axis=1))
    ok = finite_rows(x)
    hi, lo, _ = mp_lse_rows(x[ok])
    assert_lse_accuracy(v[ok], hi, lo, dtype)
    for got, log in ((sm, False), (ls, True)):
        hi, lo = mp_softmax_rows(x[ok], log=log)
        assert ulp_errors(got[ok], hi, lo, dtype).max() <= 4.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stages_with_mask_and_negative_weights(isa, dtype):
    rng = np.random.default_rng(5)
    x = rows_matrix(dtype, seed=2)
    keep = rng.uniform(size=x.shape) > 0.3
    keep[10] = False                                    # nothing kept
    keep[11, 7:20] = False                              # a chunk fully masked
    b = rng.uniform(0.1, 2.0, x.shape).astype(dtype)
    b[8, ::3] *= -1                                     # negative weights
    b[9, 5] = 0.0
    _, _, v, sign, sm, ls = c_path(x, keep, None)
    assert_same_specials(v.astype(dtype), fa.logsumexp(x, axis=1, where=keep))
    assert_same_specials(sm, fa.softmax(x, axis=1, where=keep))
    assert_same_specials(ls, fa.log_softmax(x, axis=1, where=keep))
    ok = finite_rows(x, keep)
    hi, lo, _ = mp_lse_rows(x[ok], keep=keep[ok])
    assert_lse_accuracy(v[ok], hi, lo, dtype)
    for got, log in ((sm, False), (ls, True)):
        hi, lo = mp_softmax_rows(x[ok], keep[ok], log=log)
        assert ulp_errors(got[ok], hi, lo, dtype).max() <= 4.0
    # weights (logsumexp only), with the sign
    _, _, v, sign, _, _ = c_path(x, keep, b, return_sign=True)
    mv, msign = fa.logsumexp(x, axis=1, b=b, where=keep, return_sign=True)
    assert_same_specials(v.astype(dtype), mv)
    assert_same_specials(sign.astype(dtype), msign)
    _, rv, rsign = reference_path(x, keep, b, return_sign=True)
    assert_same_specials(v, rv)
    ok = finite_rows(x, keep & (b != 0))
    hi, lo, msg = mp_lse_rows(x[ok], w=b[ok], keep=keep[ok])
    assert np.array_equal(sign[ok], msg)
    assert_lse_accuracy(v[ok], hi, lo, dtype)


# the differential fuzz's row (2026-12): logsumexp ~0.0131 with signed weights, 1205 ULP off in
# chunks (1, 5), 87 in (3, 3) before every weighted chunk summed S0
FUZZ_ROW = [0.29824349709890946, 1.317799191438088, -1.3863917527219458, 2.811782634296871,
            1.5590471847530152, 5.058315976364648]
FUZZ_B = [0.5, 2.0, 0.0, -1.0, 2.0, 0.0]


def near_zero_weighted_rows(dtype, seed, rows=60, n=12):
    """rows of n entries with signed (or positive, below 1) weights whose logsumexp is c, |c|
    in [1e-3, 1) (x shifted by -log|sum w e^x| + c in float64, then rounded to dtype); the
    fuzz row first (padded with weight-0 entries)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 2, (rows, n))
    b = np.where(np.arange(rows)[:, None] % 3 == 2, rng.uniform(0.05, 1.0, (rows, n)),
                 rng.choice([0.0, 0.25, 0.5, 1.0, 2.0, -0.5, -1.0], (rows, n)))
    b[:, 0] = np.abs(b[:, 0]) + 0.1
    s = np.sum(b * np.exp(x), axis=1)
    b[s < 0] *= -1
    c = rng.choice([-1.0, 1.0], rows) * 10.0 ** rng.uniform(-3, 0, rows)
    x = x - np.log(np.abs(s))[:, None] + c[:, None]
    x[0, :6], b[0, :6], b[0, 6:] = FUZZ_ROW, FUZZ_B, 0.0
    return x.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weighted_results_near_zero_in_any_chunking(isa, dtype):
    """Signed weights, results near 0: within 2 ULP of mpmath however the slice is chunked.
    Each weighted chunk sums S0 (the slice's total may land in (-1, 1) through another
    chunk's weights, which the chunk cannot see); M + log S alone was up to ~12000 ULP off
    (float32 ~450) where a chunk without negative weights had M >= 0 and left S0 out."""
    x, b = near_zero_weighted_rows(dtype, seed=31)
    rng = np.random.default_rng(32)
    keep = rng.uniform(size=x.shape) > 0.2
    keep[:, 0] = True
    keep[0] = True
    refs = {False: mp_lse_rows(x, w=b), True: mp_lse_rows(x, w=b, keep=keep)}
    for chunks in ((1, 11), (3, 9), (6, 6), (2, 0, 4, 6), (1, 1, 1, 9), (5, 7), (11, 1), (12,)):
        for masked in (False, True):
            _, _, v, sign, _, _ = c_path(x, keep if masked else None, b, return_sign=True, chunks=chunks)
            hi, lo, msign = refs[masked]
            assert np.array_equal(sign, msign), (chunks, masked)
            err = ulp_errors(v.astype(dtype), hi, lo, dtype)
            assert err.max() <= 2.0, (chunks, masked, int(np.argmax(err)), err.max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_columns_are_rows_transposed(isa, dtype):
    """A block reduced along a non-last axis (inner > 1) gives the records and outputs of its
    transposed rows."""
    rng = np.random.default_rng(9)
    x3 = rng.normal(0, 10, (3, 17, 5)).astype(dtype)
    x3[1, :, 2] = -np.inf
    keep = rng.uniform(size=x3.shape) > 0.2
    rows = np.ascontiguousarray(x3.transpose(0, 2, 1)).reshape(15, 17, 1)
    krows = np.ascontiguousarray(keep.transpose(0, 2, 1)).reshape(15, 17, 1)
    got = cs.chunk_statistics(x3, keep, exact=True)
    want = cs.chunk_statistics(rows, krows, exact=True).reshape(3, 5)
    for field in cs.STATS.names:
        assert np.array_equal(got[field], want[field], equal_nan=True)
    for log in (False, True):
        y = cs.softmax_from_stats(x3, got, keep, log=log)
        yr = cs.softmax_from_stats(rows, want.reshape(15, 1), krows, log=log)
        assert np.array_equal(y, yr.reshape(3, 5, 17).transpose(0, 2, 1), equal_nan=True)


def test_combine_matches_reference(isa):
    """The combine (rescale in double-double + two-sums) against the reference's."""
    rng = np.random.default_rng(11)
    recs = np.zeros((6, 4), cs.STATS)
    recs["M"] = rng.uniform(-50, 50, (6, 4))
    recs["M"][2, 1] = -np.inf
    recs["hi"] = rng.uniform(1, 100, (6, 4))
    recs["lo"] = recs["hi"] * rng.uniform(-1, 1, (6, 4)) * 2.0 ** -53
    recs["hi"][2, 1] = recs["lo"][2, 1] = 0.0
    recs["count"] = 7
    recs["hi0"] = recs["lo0"] = np.nan
    out = cs.combine(recs)
    M = recs["M"].max(-1)
    h, l = ref.rescale(recs["M"], recs["hi"], recs["lo"], M[:, None])
    H, L = ref.dd_sum(h, l, -1)
    assert np.array_equal(out["M"], M)
    assert np.array_equal(out["count"], np.full(6, 28))
    assert np.all(np.abs((out["hi"] - H) + (out["lo"] - L)) <= 2.0 ** -100 * np.abs(H) * 8)
    assert np.all(np.isnan(out["hi0"]))


def test_records_bytes_are_deterministic():
    """The statistics records travel between Dask workers (pickled, hashed by the scheduler):
    their padding bytes must not carry leftover memory, so equal statistics are equal bytes."""
    pad = cs.STATS.itemsize - sum(cs.STATS.fields[f][0].itemsize for f in cs.STATS.names)
    assert pad > 0                                   # the layout does have padding to check
    x = np.random.default_rng(3).normal(0, 3, (6, 50))
    for _ in range(3):
        np.empty(4096, np.uint8).fill(0xAB)          # dirty the allocator's recent memory
        a = cs.chunk_statistics(x.reshape(6, 50, 1))
        np.empty(4096, np.uint8).fill(0xCD)
        b = cs.chunk_statistics(x.reshape(6, 50, 1))
        assert a.tobytes() == b.tobytes()
        c = cs.combine(np.stack([a[:, 0], b[:, 0]], axis=-1))
        raw = np.frombuffer(c.tobytes(), np.uint8).reshape(len(c), -1)
        assert np.all(raw[:, -pad:] == 0)
