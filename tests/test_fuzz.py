"""Bounded-time fuzzing of every public function against slow NumPy twins (hypothesis).

Random shapes (0-d to 3-d, empty axes, SIMD tails), strides (negative, steps of 2,
transposed), dtypes (float16/32/64, ints, bool), byte orders, unaligned offsets, `out=`
(fresh, narrower, the input itself, a partly overlapping view), `where=` and `b=`
(broadcast), keepdims / return_sign, on every kernel variant and 1 or 2 threads.

The element-wise twins are the registry's `numpy` formulas (fastact/_registry.py),
evaluated in float64; the reduction twins are written here, in float64.  Values are kept
to a moderate range plus the special values whose results the twins define (the accuracy
of extreme inputs is measured against mpmath elsewhere: this file is about memory layout,
dtypes and argument handling; it also runs under AddressSanitizer in .ci/run).

FASTACT_FUZZ_EXAMPLES sets the number of examples per test (default 150).
"""
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastact as fa
from fastact._registry import ACTIVATIONS

EXAMPLES = int(os.environ.get("FASTACT_FUZZ_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ISAS = fa.simd_info()["available"]
FLOATS = [np.float16, np.float32, np.float64]
OTHER = [np.int8, np.int32, np.uint16, np.bool_]
TOL = {np.dtype(np.float16): (2e-3, 1e-4), np.dtype(np.float32): (4e-6, 1e-30),   # (rtol, atol)
       np.dtype(np.float64): (1e-9, 1e-200)}


# ------------------------------------------------------------------------ arrays in odd layouts

def _place(values, dtype, byteorder, steps, perm, unaligned):
    """An array equal to `values` (cast to dtype) whose memory is strided by `steps` (negative
    steps allowed), in the axis order `perm`, in `byteorder`, optionally at an unaligned address."""
    dt = np.dtype(dtype)
    if dt.itemsize > 1 and byteorder != "=":
        dt = dt.newbyteorder(byteorder)
    shape = values.shape
    pshape = tuple(shape[p] for p in perm)
    big = tuple(max(s, 1) * abs(k) for s, k in zip(pshape, steps))
    nbytes = int(np.prod(big, dtype=np.int64)) * dt.itemsize
    raw = np.zeros(nbytes + 16, np.uint8)
    off = 1 if unaligned and dt.itemsize > 1 else 0
    base = raw[off:off + nbytes].view(dt).reshape(big)
    view = base[tuple(slice(None, s * abs(k), k) if k > 0 else slice(None, None, k)
                      for s, k in zip(pshape, steps)) + (Ellipsis,)]
    view = view[tuple(slice(0, s) for s in pshape) + (Ellipsis,)]
    arr = view.transpose(np.argsort(perm))
    assert arr.shape == shape
    with np.errstate(all="ignore"):
        arr[...] = values.astype(dt) if dt.kind != "b" else values != 0
    return arr


@st.composite
def layouts(draw, ndim_max=3, size_max=40):
    ndim = draw(st.integers(0, ndim_max))
    if ndim == 1:
        shape = (draw(st.integers(0, size_max)),)
    else:
        shape = tuple(draw(st.integers(0, 5)) for _ in range(ndim))
    steps = tuple(draw(st.sampled_from([1, 1, -1, 2, -2])) for _ in range(ndim))
    perm = tuple(draw(st.permutations(range(ndim)))) if ndim else ()
    return shape, steps, perm, draw(st.booleans()), draw(st.sampled_from(["=", "=", "<", ">"]))


def _values(data, shape, specials):
    n = int(np.prod(shape, dtype=np.int64))
    finite = st.floats(-30, 30, allow_nan=False, width=32)
    elements = st.one_of(finite, st.sampled_from(specials)) if specials else finite
    return np.array(data.draw(st.lists(elements, min_size=n, max_size=n)), dtype=np.float64).reshape(shape)


def _setup(data):
    fa.set_isa(data.draw(st.sampled_from(ISAS), label="isa"))
    fa.set_num_threads(data.draw(st.sampled_from([1, 2]), label="threads"))


@pytest.fixture(autouse=True)
def _restore():
    isa, threads = fa.simd_info()["current"], fa.get_num_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no warning of any kind may leak
        yield
    fa.set_isa(isa)
    fa.set_num_threads(threads)


def _result_dtype(dtype):
    dt = np.dtype(dtype)
    return dt.newbyteorder("=") if dt.kind == "f" else np.dtype(np.float64)


def _assert_close(got, want, dtype, what, must_be_nan=None, scale=None):
    """got ~ want; NaN where `must_be_nan` (default: where want is NaN); entries where want is
    NaN but NaN is not required are not judged (a naive twin's NaN at a limit).  `scale` (|x|
    per entry) widens the absolute tolerance by the twin's own cancellation error (the naive
    formulas lose ~1e-16 |x| in the tails: 0.5 x (1 + tanh(u)) at x = -6)."""
    rtol, atol = TOL[np.dtype(dtype).newbyteorder("=")]
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, what
    undefined = np.isnan(want)
    must = undefined if must_be_nan is None else must_be_nan
    np.testing.assert_array_equal(np.isnan(got) | ~must, True, err_msg=what + ": NaN expected")
    ok = ~undefined & ~must
    got, want = got[ok], want[ok]
    if scale is not None:
        atol = atol + 1e-12 * np.maximum(1.0, np.asarray(scale, np.float64)[ok])
    with np.errstate(invalid="ignore"):
        close = (got == want) | (np.abs(got - want) <= atol + rtol * np.abs(want))
    bad = np.flatnonzero(~close)
    assert bad.size == 0, f"{what}: {bad.size} entries differ, first got {got[bad[0]]!r} want {want[bad[0]]!r}"


def _out_for(data, x, result_dtype):
    """(kind, x, out): out None, fresh (this dtype or a wider one), x itself, or a view that
    overlaps x partly (then x is moved into a buffer one element longer, out its tail)."""
    kinds = ["none", "fresh", "fresh_wider"]
    if x.dtype == result_dtype and x.flags.writeable:
        kinds.append("self")
    if x.ndim == 1 and x.size > 1:
        kinds.append("overlap")
    kind = data.draw(st.sampled_from(kinds), label="out")
    if kind == "none":
        return kind, x, None
    if kind == "fresh":
        return kind, x, np.full(x.shape, 7, result_dtype)
    if kind == "fresh_wider":       # a narrower out is tested in test_hardening.py
        return kind, x, np.full(x.shape, 7, np.float64 if result_dtype.itemsize < 8 else result_dtype)
    if kind == "self":
        return kind, x, x
    buf = np.empty(x.size + 1, result_dtype)
    buf[:-1] = x
    forward = data.draw(st.booleans(), label="overlap direction")
    x2, out = (buf[:-1], buf[1:]) if forward else (buf[1:], buf[:-1])
    if not forward:
        buf[1:] = x
    return kind, x2, out


# ------------------------------------------------------------------------ element-wise

ENTRIES = [(e, p) for e in ACTIVATIONS for p in e.test_params]


def _call_kwargs(entry, params):
    kw = {p.name: v for p, v in zip(entry.params, params)}
    if entry.select:
        kw[entry.select[0]] = entry.select[1]
    return kw


@SETTINGS
@given(data=st.data())
def test_elementwise_against_numpy_twins(data):
    _setup(data)
    entry, params = data.draw(st.sampled_from(ENTRIES), label="function")
    shape, steps, perm, unaligned, order = data.draw(layouts(), label="layout")
    dtype = data.draw(st.sampled_from(FLOATS + OTHER), label="dtype")
    lo, hi = entry.domain
    if entry.kernel == "logit":
        values = np.array(data.draw(st.lists(st.floats(0, 1, width=32), min_size=int(np.prod(shape)),
                                             max_size=int(np.prod(shape)))), np.float64).reshape(shape)
        if np.dtype(dtype).kind in "iub":
            values = np.round(values)
    else:
        values = _values(data, shape, [np.inf, -np.inf, np.nan, 0.0, -0.0])
        if np.dtype(dtype).kind in "iub":
            values = np.where(np.isfinite(values), np.trunc(values), 0)
            if np.dtype(dtype).kind == "u":
                values = np.abs(values)
    x = _place(values, dtype, order, steps, perm, unaligned)
    exact_in = x.astype(np.float64)                   # what the kernel sees (after the dtype's rounding)
    result_dtype = _result_dtype(x.dtype)
    kw = _call_kwargs(entry, params)
    with np.errstate(all="ignore"):
        want = entry.numpy(np, exact_in, *params)
    want = np.broadcast_to(want, exact_in.shape)
    # the naive twins give NaN at some limits (x/(1+e^-x) at -inf): those entries are not judged
    kind, x, out = _out_for(data, x, result_dtype)
    f = getattr(fa, entry.name)
    got = f(x, out=out, **kw) if out is not None else f(x, **kw)
    if out is not None:
        assert got is out
    else:
        assert np.asarray(got).dtype == result_dtype and np.shape(got) == x.shape
        if x.ndim == 0:
            assert isinstance(got, np.generic)
    _assert_close(got, want, result_dtype, f"{entry.name}{params} {kind}", must_be_nan=np.isnan(exact_in),
                  scale=np.abs(exact_in))


# ------------------------------------------------------------------------ reductions

def _twin_stats(a, axes, mask, b):
    """(m, s): the max of the included entries and sum(b * e^(a - m)) over `axes`, in float64."""
    keep = mask if b is None else mask & (b != 0)
    with np.errstate(all="ignore"):
        m = np.max(np.where(keep, a, -np.inf), axis=axes, keepdims=True, initial=-np.inf)
        m0 = np.where(np.isfinite(m), m, 0.0)
        terms = np.exp(a - m0) * (1.0 if b is None else b)
        s = np.sum(np.where(keep, terms, 0.0), axis=axes, keepdims=True)
    return m0, s


def twin_logsumexp(a, axes, mask, b, return_sign):
    m0, s = _twin_stats(a, axes, mask, b)
    with np.errstate(all="ignore"):
        if return_sign:
            return np.log(np.abs(s)) + m0, np.sign(s)
        return np.log(s) + m0, None


def twin_log_softmax(a, axes, mask):
    lse, _ = twin_logsumexp(a, axes, mask, None, False)
    with np.errstate(all="ignore"):
        return np.where(mask, a - lse, -np.inf)


def twin_softmax(a, axes, mask):
    lse, _ = twin_logsumexp(a, axes, mask, None, False)
    with np.errstate(all="ignore"):
        return np.where(mask, np.exp(a - lse), 0.0)


@st.composite
def axis_choice(draw, ndim):
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or ndim == 0:
        return None, tuple(range(ndim))
    if kind == "int":
        ax = draw(st.integers(-ndim, ndim - 1))
        return ax, (ax % ndim,)
    axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    signed = tuple(a - ndim if draw(st.booleans()) else a for a in axes)
    return signed, tuple(sorted(axes))


def _broadcastable(data, shape, label):
    """A shape that broadcasts to `shape` (some axes 1, some leading axes dropped)."""
    drop = data.draw(st.integers(0, len(shape)), label=label + " drop")
    return tuple(1 if data.draw(st.booleans(), label=label + " ones") else s for s in shape[drop:])


@SETTINGS
@given(data=st.data())
def test_reductions_against_numpy_twins(data):
    _setup(data)
    name = data.draw(st.sampled_from(["logsumexp", "softmax", "log_softmax"]), label="function")
    shape, steps, perm, unaligned, order = data.draw(layouts(size_max=70), label="layout")
    dtype = data.draw(st.sampled_from(FLOATS + OTHER), label="dtype")
    values = _values(data, shape, [-np.inf, 0.0])
    if np.dtype(dtype).kind in "iub":
        values = np.where(np.isfinite(values), np.trunc(values), 0)
        if np.dtype(dtype).kind in "ub":
            values = np.abs(values)
    x = _place(values, dtype, order, steps, perm, unaligned)
    xin = x.astype(np.float64)
    result_dtype = _result_dtype(x.dtype)
    axis, axes = data.draw(axis_choice(x.ndim), label="axis")
    # the twins' x - lse and log(s) + m cancel: their own error is ~1e-16 of the slice's largest |x|
    with np.errstate(invalid="ignore"):
        scale = np.max(np.abs(np.where(np.isfinite(xin), xin, 0)), axis=axes, keepdims=True, initial=0.0) + 10
    where = None
    mask = np.ones(x.shape, bool)
    if data.draw(st.booleans(), label="use where"):
        wshape = _broadcastable(data, x.shape, "where")
        where = np.array(data.draw(st.lists(st.booleans(), min_size=int(np.prod(wshape)),
                                            max_size=int(np.prod(wshape)))), bool).reshape(wshape)
        if where.size and data.draw(st.booleans(), label="where as list"):   # [] would lose the shape
            where = where.tolist()
        mask = np.broadcast_to(np.asarray(where, bool), x.shape)
    kw = {"axis": axis}
    if where is not None:
        kw["where"] = where
    if name == "logsumexp":
        b = None
        keepdims = data.draw(st.booleans(), label="keepdims")
        return_sign = data.draw(st.booleans(), label="return_sign")
        if data.draw(st.booleans(), label="use b"):
            bshape = _broadcastable(data, x.shape, "b")
            pool = [0.0, 0.5, 1.0, 2.0, 3.0] + ([-1.0, -0.5] if return_sign else [])
            b = np.array(data.draw(st.lists(st.sampled_from(pool), min_size=int(np.prod(bshape)),
                                            max_size=int(np.prod(bshape)))), np.float64).reshape(bshape)
            b = b.astype(data.draw(st.sampled_from([np.float64, np.float32]), label="b dtype")
                         if np.dtype(dtype).kind == "f" and np.dtype(dtype).itemsize <= 4 else np.float64)
            kw["b"] = b
        bb = None if b is None else np.broadcast_to(b, x.shape).astype(np.float64)
        if b is not None:
            result_dtype = np.result_type(result_dtype, b.dtype)
        want, want_sign = twin_logsumexp(xin, axes, mask, bb, return_sign)
        if not keepdims:
            want = want.reshape([s for i, s in enumerate(x.shape) if i not in axes])
            scale = scale.reshape(want.shape)
            if want_sign is not None:
                want_sign = want_sign.reshape(want.shape)
        kind, out = data.draw(st.sampled_from(["none", "fresh"]), label="out"), None
        if kind == "fresh":
            out = np.full(want.shape, 7, result_dtype)
            kw["out"] = out
        got = fa.logsumexp(x, keepdims=keepdims, return_sign=return_sign, **kw)
        if return_sign:
            got, sign = got
            _assert_close(sign, want_sign, result_dtype, "sign")
        if out is not None:
            assert got is out
        elif want.ndim == 0:
            assert isinstance(got, np.generic)
        assert np.asarray(got).dtype == result_dtype
        _assert_close(got, want, result_dtype, f"logsumexp {kw}", scale=scale)
        return
    twin = twin_softmax if name == "softmax" else twin_log_softmax
    want = twin(xin, axes, mask)
    # all -inf (unmasked) slices: NaN as the peers; masked entries of such a slice are not judged
    want = np.where(np.isnan(want) & ~mask, np.nan, want)
    kind, x, out = _out_for(data, x, result_dtype)
    if out is not None:
        kw["out"] = out
    got = getattr(fa, name)(x, **kw)
    if out is not None:
        assert got is out
    else:
        assert np.asarray(got).dtype == result_dtype and np.shape(got) == x.shape
    _assert_close(got, want, result_dtype, f"{name} {kind}", scale=np.broadcast_to(scale, x.shape))
