"""The C-API fast paths of the gradients and losses (fastact/_core.pyx axis_fast with grad_output,
_ce_core.pxi ce_fast, _bce_core.pxi bce_fast / one_hot_fast, _reductions._logsumexp_grad_fast).

Each takes the common call (plain C-contiguous float32/float64 operands, default options) in
well under a microsecond where the general path spends 5-50 us on argument handling, and hands
everything else to the general path.  The general path runs the same C kernel on the same
numbers, so the two must agree bit for bit: each test below calls the fast path, then forces
the general path with an operand that holds the same values in a layout the fast path does not
take (a reversed view of a reversed copy: negative strides), and compares.
"""
import math
import os

import numpy as np
import pytest

import fastact as fa

DTYPES = (np.float32, np.float64)


def general(a):
    """a's values in a non-contiguous layout (negative strides along the last axis): the fast
    paths do not take it, the general path copies it to the same contiguous numbers."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a.reshape(1)[::-1].reshape(())   # a 0-d view: only the general path takes it
    v = a[..., ::-1].copy()[..., ::-1]
    assert not v.flags.c_contiguous or v.shape[-1] <= 1
    return v


def same(a, b):
    """Bit-identical results: the same type (NumPy scalar or array), dtype, shape and bits."""
    assert type(a) is type(b), (type(a), type(b))
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    assert a.tobytes() == b.tobytes(), (a, b)


@pytest.fixture
def rng():
    return np.random.default_rng(20261206)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax_grad", "log_softmax_grad"])
@pytest.mark.parametrize("shape", [(7,), (5, 9), (3, 4, 6), (2, 40)])
def test_rowwise_grad_fast_path_equals_general_path(isa, rng, dtype, name, shape):
    f, forward = getattr(fa, name), getattr(fa, name.replace("_grad", ""))
    for axis in [None] + list(range(-len(shape), len(shape))):
        y = forward((rng.standard_normal(shape) * 3).astype(dtype), axis=axis)
        g = rng.standard_normal(shape).astype(dtype)
        want = f(y, general(g), axis=axis)
        same(f(y, g, axis=axis), want)
        out = np.empty_like(y)
        assert f(y, g, axis=axis, out=out) is out
        same(out, want)
        yy, gg = y.copy(), g.copy()               # out may be y or g itself
        assert f(yy, g, axis=axis, out=yy) is yy
        same(yy, want)
        assert f(y, gg, axis=axis, out=gg) is gg
        same(gg, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rowwise_grad_partial_overlap_and_other_operands_take_the_general_path(dtype):
    """out overlapping g in part, a grad_output of another dtype or shape (broadcast), and
    where= are the general path's: the right values, not a fast path's misreading."""
    x = np.linspace(-3, 3, 24).astype(dtype).reshape(4, 6)
    y = fa.softmax(x, axis=-1)
    g = np.cos(np.arange(24)).astype(dtype).reshape(4, 6)
    ref = y * (g - np.sum(g * y, axis=-1, keepdims=True, dtype=np.float64).astype(dtype))
    buf = np.zeros(30, dtype)
    buf[:24] = g.ravel()
    shifted = buf[6:].reshape(4, 6)
    shifted[...] = g                            # g's values, in memory overlapping `out` in part
    out = buf[:24].reshape(4, 6)
    r = fa.softmax_grad(y, shifted, axis=-1, out=out)
    assert r is out
    np.testing.assert_allclose(out, ref, rtol=8 * np.finfo(dtype).eps, atol=8 * np.finfo(dtype).eps)
    g_row = g[0]                                # broadcast against y
    np.testing.assert_allclose(fa.softmax_grad(y, g_row, axis=-1),
                               fa.softmax_grad(y, np.broadcast_to(g_row, y.shape).copy(), axis=-1), rtol=0)
    other = np.float64 if dtype == np.float32 else np.float32
    assert fa.softmax_grad(y, g.astype(other), axis=-1).dtype == np.float64


LOSS_OPTIONS = [dict(reduction=r, label_smoothing=s, ignore_index=i)
                for r in ("mean", "sum", "none") for s in (0.0, 0.15, 1) for i in (-100, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6,), (9, 5), (3, 4, 7)])
def test_cross_entropy_fast_path_equals_general_path(isa, rng, dtype, shape):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    t = rng.integers(0, shape[-1], shape[:-1])
    t.reshape(-1)[:1] = 2                       # one target equal to ignore_index=2
    for kw in LOSS_OPTIONS:
        tg = general(t) if t.ndim else t.astype(np.int32)
        same(fa.cross_entropy(x, t, **kw), fa.cross_entropy(general(x), tg, **kw))
        same(fa.cross_entropy_grad(x, t, **kw), fa.cross_entropy_grad(general(x), tg, **kw))
        (l1, g1), (l2, g2) = (fa.cross_entropy(x, t, return_grad=True, **kw),
                              fa.cross_entropy(general(x), tg, return_grad=True, **kw))
        same(l1, l2)
        same(g1, g2)
        kw = {k: v for k, v in kw.items() if k != "label_smoothing"}
        lp = fa.log_softmax(x, axis=-1)
        same(fa.nll_loss(lp, t, **kw), fa.nll_loss(general(lp), tg, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_fast_path_errors_and_special_cases(dtype):
    x = np.array([[0.0, 1.0, 2.0], [3.0, -np.inf, 1.0]], dtype)
    with pytest.raises(IndexError, match=r"target 3 at position \(1,\) is out of range for 3 classes"):
        fa.cross_entropy(x, np.array([0, 3]))
    with pytest.raises(IndexError, match=r"target -1 at position \(0,\)"):
        fa.cross_entropy_grad(x, np.array([-1, 0]))
    with pytest.raises(IndexError, match=r"target 7 at position \(0,\)"):
        fa.nll_loss(x, np.array([7, 0]))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        fa.cross_entropy(x, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be one of"):
        fa.cross_entropy(x, np.array([0, 1]), reduction="avg")
    ignored = np.array([-100, -100])
    r = fa.cross_entropy(x, ignored)            # every target ignored: 0.0, not NaN
    assert type(r) is np.dtype(dtype).type and r == 0
    assert np.all(fa.cross_entropy_grad(x, ignored) == 0)
    # the picked -inf logit: an infinite loss (no warning), as the general path
    with np.errstate(all="raise"):
        r = fa.cross_entropy(x, np.array([0, 1]), reduction="sum")
    assert r == np.inf and type(r) is np.dtype(dtype).type


def test_loss_sums_are_compensated(rng):
    """'sum' and 'mean' add the per-row losses in float64 with their roundings carried
    (fastact/_ce_core.pxi _total): within 1 ULP of math.fsum of the rows' losses, where a plain
    running float64 sum of these terms is off by many ULP (one huge loss first, then 200000
    losses of ~1 that each round at its spacing)."""
    rows = 200_000
    x = np.zeros((rows, 2))
    x[:, 1] = rng.uniform(-3, 3, rows)
    x[0, 1] = 1e12
    t = np.zeros(rows, np.int64)
    per_row = fa.cross_entropy(x, t, reduction="none")
    exact = math.fsum(per_row.tolist())
    got = fa.cross_entropy(x, t, reduction="sum")
    assert abs(got - exact) <= np.spacing(exact), (got, exact)
    plain = 0.0
    for v in per_row.tolist():
        plain += v
    assert abs(plain - exact) > 10 * np.spacing(exact)       # the data does need the compensation
    np.testing.assert_allclose(fa.cross_entropy(x, t), exact / rows, rtol=2 * np.finfo(np.float64).eps)
    assert fa.cross_entropy(general(x), general(t), reduction="sum") == got


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5,), (4, 6), (2, 3, 5)])
def test_bce_fast_path_equals_general_path(isa, rng, dtype, shape):
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    y = rng.uniform(0, 1, shape).astype(dtype)
    for reduction in ("mean", "sum", "none"):
        same(fa.binary_cross_entropy_with_logits(x, y, reduction=reduction),
             fa.binary_cross_entropy_with_logits(general(x), general(y), reduction=reduction))
        same(fa.binary_cross_entropy_with_logits_grad(x, y, reduction=reduction),
             fa.binary_cross_entropy_with_logits_grad(general(x), general(y), reduction=reduction))
    with pytest.raises(ValueError, match="target shape"):
        fa.binary_cross_entropy_with_logits(x, y[..., :1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.dtype(np.float32), np.dtype(np.float64)])
def test_one_hot_fast_path_equals_general_path(dtype):
    labels = np.array([[3, 0, 2], [1, 1, 4]])
    r = fa.one_hot(labels, 5, dtype=dtype)
    same(r, fa.one_hot(labels.astype(np.int32), 5, dtype=dtype))
    assert r.dtype == np.dtype(dtype) and r.shape == (2, 3, 5)
    assert np.array_equal(r.argmax(-1), labels) and r.sum() == labels.size
    with pytest.raises(IndexError, match=r"label 4 at position \(1, 2\) is out of range for num_classes=4"):
        fa.one_hot(labels, 4, dtype=dtype)
    assert fa.one_hot(labels, 5, dtype=dtype, axis=0).shape == (5, 2, 3)



UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")   # .ci/run's sanitizer job


@pytest.mark.parametrize("num_classes", [2**64, 2**63, 2**62, pytest.param(2**45, marks=pytest.mark.skipif(
    UNDER_ASAN, reason="a 768 TiB allocation attempt: ASan logs it as a report, which fails the job"))])
def test_one_hot_too_large_a_result_raises_the_general_paths_error(num_classes):
    """A num_classes whose result cannot be allocated: the fast path must not raise an error of
    its own (an OverflowError from a num_classes beyond intp, NumPy's "array is too big" or a
    MemoryError naming its 2-D shape), but the one the general path gives for the same call."""
    labels = np.array([0, 1, 2])
    with pytest.raises(Exception) as fast:
        fa.one_hot(labels, num_classes)
    with pytest.raises(Exception) as full:
        fa.one_hot(labels.astype(np.int32), num_classes)     # int32 labels: the general path
    assert fast.type is full.type and str(fast.value) == str(full.value)
    assert issubclass(fast.type, (ValueError, MemoryError))

@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_grad_fast_path_equals_general_path(isa, rng, dtype):
    a = (rng.standard_normal((5, 7)) * 3).astype(dtype)
    a[1] = -np.inf                               # all -inf: gradient 0 (not the softmax's NaN)
    a[2, 3] = np.nan                             # NaN in: NaN out
    g_rows = rng.standard_normal(5).astype(dtype)
    g_cols = rng.standard_normal(7).astype(dtype)
    for axis, gs in ((-1, (None, g_rows, g_rows[:, None])), (1, (g_rows,)), (0, (None, g_cols, g_cols[None])),
                     (None, (None, dtype(2.5) * np.ones((), dtype)))):
        for g in gs:
            want = fa.logsumexp_grad(general(a), None if g is None else general(g), axis=axis)
            got = fa.logsumexp_grad(a, g, axis=axis)
            if axis == 0:       # columns: the reversed copy reorders them, and a column's bits depend
                np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps, atol=0)  # on its block
            else:
                same(got, want)
    r = fa.logsumexp_grad(a, g_rows, axis=-1)
    assert np.all(r[1] == 0) and np.all(np.isnan(r[2]))
    ok = np.array([0, 3, 4])
    ref = np.exp(a[ok].astype(np.float64) - np.log(np.sum(np.exp(a[ok].astype(np.float64)), -1, keepdims=True)))
    np.testing.assert_allclose(r[ok], ref * g_rows[ok, None], rtol=8 * np.finfo(dtype).eps)
    g_inf = g_rows.copy()
    g_inf[0] = np.inf                           # IEEE products on kept entries, no warning
    with np.errstate(all="raise"):
        r = fa.logsumexp_grad(a, g_inf, axis=-1)
    assert np.all(r[0] == np.inf) and np.all(r[1] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(9,), (6, 11), (3, 5, 4)])
def test_where_fast_path_equals_general_path(isa, rng, dtype, shape):
    """where= as a C-contiguous bool array of x's shape goes to the kernel directly; the general
    path (the same mask in another layout: copied contiguous) must give the same bits, fully
    masked slices included."""
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    mask = rng.uniform(size=shape) < 0.7
    mask.reshape(-1, shape[-1])[0] = False           # a fully masked slice along the last axis
    for axis in [None] + list(range(-len(shape), len(shape))):
        for f in (fa.softmax, fa.log_softmax, fa.logsumexp):
            same(f(x, axis=axis, where=mask), f(x, axis=axis, where=general(mask)))
        y = fa.softmax(x, axis=axis, where=mask)
        for f in (fa.softmax_grad, fa.log_softmax_grad):
            same(f(y, g, axis=axis, where=mask), f(y, g, axis=axis, where=general(mask)))
    r = fa.softmax(x, axis=-1, where=mask)
    assert np.all(r.reshape(-1, shape[-1])[0] == 0)                  # fully masked: 0
    assert np.all(r[~mask] == 0) and np.all(r[mask] > 0)
    with pytest.raises(TypeError, match="Cannot cast array data from dtype\\('int64'\\) to dtype\\('bool'\\)"):
        fa.softmax(x, axis=-1, where=mask.astype(np.int64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (4, 6), (2, 3, 5)])
def test_logsumexp_keepdims_fast_path_equals_general_path(isa, rng, dtype, shape):
    """keepdims=True on the fast path: the reduced axes kept as 1 (an array, also for axis=None,
    as SciPy), the same bits as the general path, with and without where=."""
    sp = pytest.importorskip("scipy.special")
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    mask = rng.uniform(size=shape) < 0.8
    for axis in [None] + list(range(-len(shape), len(shape))):
        got = fa.logsumexp(x, axis=axis, keepdims=True)
        rows = axis is None or axis % len(shape) == len(shape) - 1
        check = same if rows else (lambda a, b: np.testing.assert_allclose(a, b, rtol=4 * np.finfo(dtype).eps))
        check(got, fa.logsumexp(general(x), axis=axis, keepdims=True))   # columns: bits follow the block
        want = sp.logsumexp(x, axis=axis, keepdims=True)
        assert isinstance(got, np.ndarray) and got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=8 * np.finfo(dtype).eps)
        check(fa.logsumexp(x, axis=axis, keepdims=True, where=mask),
              fa.logsumexp(general(x), axis=axis, keepdims=True, where=general(mask)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(9,), (5, 8), (2, 3, 6)])
def test_logsumexp_weights_fast_path_equals_general_path(isa, rng, dtype, shape):
    """b= of x's dtype and shape on the fast path (the C kernel's weights pointer): the same bits
    as the general path, zero weights leaving out inf / NaN entries, negative totals NaN (no
    warning), against SciPy."""
    sp = pytest.importorskip("scipy.special")
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    b = rng.uniform(0.5, 2, shape).astype(dtype)
    x.reshape(-1)[0], b.reshape(-1)[0] = np.inf, 0       # left out by its zero weight
    bneg = b.copy()
    bneg.reshape(-1, shape[-1])[-1] *= -1                 # a slice with a negative total
    for axis in [None] + list(range(-len(shape), len(shape))):
        rows = axis is None or axis % len(shape) == len(shape) - 1
        for w in (b, bneg):
            with np.errstate(all="raise"):
                got = fa.logsumexp(x, axis=axis, b=w)
            want = fa.logsumexp(general(x), axis=axis, b=general(w))
            if rows:
                same(got, want)
            else:
                np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps)
        with np.errstate(all="ignore"):
            ref = sp.logsumexp(x.astype(np.float64), axis=axis, b=b.astype(np.float64))
        np.testing.assert_allclose(fa.logsumexp(x, axis=axis, b=b), ref, rtol=8 * np.finfo(dtype).eps)


def test_mean_denominator_of_cancelling_weights_is_compensated():
    """'mean' divides by the sum of the counted targets' weights; weights that cancel (1e16, 1,
    -1e16, ...) are summed compensated like the losses: np.sum's pairwise float64 sum gave 66
    for these 3000 weights, whose sum is 1000."""
    w = np.array([1e16, 1.0, -1e16])
    rows = 3000
    t = np.arange(rows) % 3
    x = np.full((rows, 3), -1000.0)
    x[np.arange(rows), t] = 1000.0           # the heavy classes' rows: loss exactly 0
    x[t == 1] = 0.0                          # the weight-1 rows: loss log(3)
    assert math.fsum(w[t].tolist()) == 1000.0 and np.sum(w[t]) != 1000.0
    np.testing.assert_allclose(fa.cross_entropy(x, t, weight=w), math.log(3), rtol=4 * np.finfo(np.float64).eps)


@pytest.mark.parametrize("axis", [2**31, -2**31 - 3, 2**40, 2**63, -2**64])
def test_axis_beyond_c_int_is_declined_without_an_ignored_exception(axis, monkeypatch):
    """An axis too large for a C int: the fast paths decline it (the general path reports), with
    no "Exception ignored in _axis_block" OverflowError printed on the way (noexcept helper)."""
    import sys
    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    x = np.ones((2, 3))
    calls = [lambda: fa.softmax(x, axis=axis), lambda: fa.log_softmax(x, axis=axis, out=np.empty_like(x)),
             lambda: fa.logsumexp(x, axis=axis), lambda: fa.logsumexp(x, axis=axis, keepdims=True),
             lambda: fa.softmax_grad(x, x, axis=axis), lambda: fa.log_softmax_grad(x, x, axis=axis),
             lambda: fa.logsumexp_grad(x, axis=axis)]
    for call in calls:
        with pytest.raises((OverflowError, ValueError, np.exceptions.AxisError)):
            call()
    assert not ignored, [str(u.exc_value) for u in ignored]


@pytest.mark.skipif(UNDER_ASAN, reason="a 2-4 EiB allocation attempt: ASan logs it as a report")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, axis", [((0, 2**30, 2**29), 0), ((2**30, 0, 2**29), 1), ((2**30, 2**29, 0), -1)])
def test_logsumexp_too_large_a_result_raises_the_general_paths_error(dtype, shape, axis):
    """logsumexp of an empty array whose result cannot be allocated: the fast path must not raise
    a MemoryError of its own (naming the result's shape), but the general path's for the call
    (forced here with a byte-swapped x: an empty array is contiguous in any layout)."""
    x = np.empty(shape, dtype)
    swapped = x.view(x.dtype.newbyteorder())
    for kw in (dict(), dict(keepdims=True), dict(b=x)):
        with pytest.raises(Exception) as fast:
            fa.logsumexp(x, axis=axis, **kw)
        with pytest.raises(Exception) as full:
            fa.logsumexp(swapped, axis=axis, **kw)
        assert fast.type is full.type and str(fast.value) == str(full.value)


@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmax_grad", "log_softmax_grad", "logsumexp"])
def test_where_inside_outs_bytes(name, contiguous):
    """where= a bool view of out's own bytes: the kernel writes out while it reads the mask, so
    both paths must read a copy (as NumPy's ufuncs do): the result is the one with a separate
    mask.  contiguous: a C-contiguous mask (the fast path's), else a strided one."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 16))
    g = rng.standard_normal((4, 16))
    buf = np.zeros(4 * 16 * 2)                               # out lives in buf's first half or all of it
    if name == "logsumexp":
        out = buf[:4]
        raw = buf.view(np.uint8)
    else:
        out = buf[:64].reshape(4, 16)
        raw = out.reshape(-1).view(np.uint8)
    w = (raw[:64].reshape(4, 16) if contiguous else raw[:128].reshape(4, 32)[:, ::2]).view(bool)
    w[...] = rng.random((4, 16)) < 0.7
    w[:, 0] = True
    wc = w.copy()
    f = getattr(fa, name)
    args = (x, g) if name.endswith("_grad") else (x,)
    want = f(*args, axis=-1, where=wc)
    got = f(*args, axis=-1, where=w, out=out)
    assert got is out
    np.testing.assert_array_equal(got, want)
