"""softmax_grad, log_softmax_grad and logsumexp_grad: finite differences of the fastact
forwards, torch.autograd, where=, the special slices, every variant, threads."""
import numpy as np
import pytest

import fastact as fa

AXES = (-1, 0, 1, None, (0, 2))


def fd_grad(f, x, g, h=1e-4):
    """d/dx sum(g * f(x)) by the fourth-order central difference, entry by entry."""
    d = np.empty_like(x)
    flat, dflat = x.reshape(-1), d.reshape(-1)
    for i in range(flat.size):
        def at(t):
            xx = flat.copy()
            xx[i] += t
            return np.sum(g * f(xx.reshape(x.shape)))
        dflat[i] = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h)
    return d


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("which", ["softmax", "log_softmax"])
def test_rowwise_grads_match_finite_differences(which, axis):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 5)) * 2
    g = rng.standard_normal(x.shape)
    fwd = getattr(fa, which)
    y = fwd(x, axis=axis)
    got = getattr(fa, which + "_grad")(y, g, axis=axis)
    np.testing.assert_allclose(got, fd_grad(lambda v: fwd(v, axis=axis), x, g), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("axis", AXES, ids=str)
def test_logsumexp_grad_matches_finite_differences(axis):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4, 5)) * 2
    b = rng.uniform(0.1, 2, a.shape)
    lse_shape = np.shape(fa.logsumexp(a, axis=axis))
    g = rng.standard_normal(lse_shape)
    for bb in (None, b):
        got = fa.logsumexp_grad(a, g, axis=axis, b=bb)
        want = fd_grad(lambda v: fa.logsumexp(v, axis=axis, b=bb), a, g)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


def test_logsumexp_grad_output_broadcasts_to_the_result_shape():
    """grad_output of logsumexp's result shape, that shape with the reduced axes kept, or
    anything that broadcasts to the result shape (a scalar: it raised AxisError, found by a
    differential fuzz); a shape that does not broadcast is a ValueError naming both."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 5, 6))
    sm = fa.softmax(x, axis=-1)
    want = 2.0 * sm
    np.testing.assert_allclose(fa.logsumexp_grad(x, 2.0, axis=-1), want, rtol=1e-15)
    np.testing.assert_allclose(fa.logsumexp_grad(x, np.full((4, 5), 2.0), axis=-1), want, rtol=1e-15)
    np.testing.assert_allclose(fa.logsumexp_grad(x, np.full((4, 5, 1), 2.0), axis=-1), want, rtol=1e-15)
    g = np.arange(5.0)                       # broadcasts to (4, 5) along the kept axis 1
    np.testing.assert_allclose(fa.logsumexp_grad(x, g, axis=-1), g[None, :, None] * sm, rtol=1e-15)
    with pytest.raises(ValueError, match=r"\(6,\).*\(4, 5\)"):
        fa.logsumexp_grad(x, np.ones(6), axis=-1)
    np.testing.assert_allclose(fa.logsumexp_grad(x, 3.0, axis=(0, 2)), 3.0 * fa.softmax(x, axis=(0, 2)), rtol=1e-15)
    # a's ndim but not the kept shape: an error (a (3, 1) grad_output for axis=0 of (3, 3) was
    # taken as is and scaled the rows; found by the third differential fuzz)
    a = np.arange(9.0).reshape(3, 3)
    for bad in (np.ones((3, 1)), np.ones((3, 3))):
        with pytest.raises(ValueError, match=r"does not broadcast to logsumexp's result shape \(3,\)"):
            fa.logsumexp_grad(a, bad, axis=0)
    g = np.array([[1.0, 2.0, 3.0]])                  # the kept shape (1, 3): per column
    np.testing.assert_allclose(fa.logsumexp_grad(a, g, axis=0), g * fa.softmax(a, axis=0), rtol=1e-15)


def test_reduction_gradients_promote_and_check_where_as_the_forwards():
    """Python scalars promote weakly (NEP 50), as the element-wise gradients and ufuncs:
    softmax_grad(float32 y, 2.0) and logsumexp_grad(float32, b=2.0) were float64; grad_output's
    dtype takes part in logsumexp_grad's promotion as in softmax_grad's; an int where= is
    NumPy's 'safe'-cast TypeError (softmax_grad read it by truth value)."""
    y = fa.softmax(np.ones((2, 3), np.float32), axis=-1)
    assert fa.softmax_grad(y, 2.0, axis=-1).dtype == np.float32
    assert fa.log_softmax_grad(y, 2.0, axis=-1).dtype == np.float32
    assert fa.softmax_grad(y, np.ones(3), axis=-1).dtype == np.float64
    a = np.ones(3, np.float32)
    assert fa.logsumexp_grad(a, None, b=2.0).dtype == np.float32
    assert fa.logsumexp_grad(a, 1.0).dtype == np.float32
    assert fa.logsumexp_grad(a, np.ones((), np.float64)).dtype == np.float64
    for f in (fa.softmax_grad, fa.log_softmax_grad):
        out = np.full((2, 3), 7.0, np.float32)
        with pytest.raises(TypeError, match="according to the rule 'safe'"):
            f(y, y, axis=-1, where=np.array([1, 0, 1]), out=out)
        assert np.all(out == 7.0)


def test_against_torch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 7)) * 3
    g = rng.standard_normal(x.shape)
    for axis in (0, 1, -1):
        for which, tf in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
            t = torch.from_numpy(x.copy()).requires_grad_(True)
            tf(t, axis).backward(torch.from_numpy(g))
            y = getattr(fa, which)(x, axis=axis)
            np.testing.assert_allclose(getattr(fa, which + "_grad")(y, g, axis=axis), t.grad.numpy(),
                                       rtol=1e-10, atol=1e-14)
        t = torch.from_numpy(x.copy()).requires_grad_(True)
        gl = rng.standard_normal(np.delete(x.shape, axis))
        torch.logsumexp(t, axis).backward(torch.from_numpy(gl))
        np.testing.assert_allclose(fa.logsumexp_grad(x, gl, axis=axis), t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_where_and_special_slices():
    a = np.array([[0.0, 1.0, 2.0], [-np.inf, -np.inf, -np.inf], [3.0, -np.inf, 1.0]])
    where = np.array([[True, False, True], [True, True, True], [False, False, False]])
    d = fa.logsumexp_grad(a, None, axis=-1)
    assert np.isfinite(d).all()
    np.testing.assert_array_equal(d[1], 0.0)                    # all -inf: 0, not NaN (pytorch#31829)
    assert d[2, 1] == 0.0
    np.testing.assert_allclose(d[0], fa.softmax(a[0]), rtol=1e-15)
    d = fa.logsumexp_grad(a, np.array([1.0, 2.0, 3.0]), axis=-1, where=where)
    assert d[0, 1] == 0.0 and (d[2] == 0).all() and (d[1] == 0).all()
    np.testing.assert_allclose(d[0, [0, 2]], fa.softmax(np.array([0.0, 2.0])), rtol=1e-15)
    # b == 0 drops the entry even at +inf
    d = fa.logsumexp_grad(np.array([0.0, np.inf]), None, b=np.array([1.0, 0.0]))
    np.testing.assert_array_equal(d, [1.0, 0.0])
    # softmax_grad / log_softmax_grad: masked entries 0 and out of the sum
    x = np.array([[0.5, 1.0, -2.0, 0.25]])
    m = np.array([[True, False, True, True]])
    g = np.array([[1.0, 5.0, -1.0, 2.0]])
    y = fa.softmax(x, axis=-1, where=m)
    dy = fa.softmax_grad(y, g, axis=-1, where=m)
    ref = fa.softmax_grad(y[:, m[0]], g[:, m[0]], axis=-1)
    assert dy[0, 1] == 0.0
    np.testing.assert_allclose(dy[:, m[0]], ref, rtol=1e-15)
    ly = fa.log_softmax(x, axis=-1, where=m)
    dl = fa.log_softmax_grad(ly, g, axis=-1, where=m)
    assert dl[0, 1] == 0.0
    np.testing.assert_allclose(dl[:, m[0]], fa.log_softmax_grad(ly[:, m[0]], g[:, m[0]], axis=-1), rtol=1e-15)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_variants_dtypes_and_out(dtype, isa):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((33, 17)) * 4).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    y = fa.softmax(x, axis=-1)
    r = fa.softmax_grad(y, g, axis=-1)
    assert r.dtype == dtype
    y64 = y.astype(np.float64)
    ref = y64 * (g - np.sum(g * y64, axis=-1, keepdims=True))
    np.testing.assert_allclose(r, ref, rtol=0, atol=4 * np.finfo(dtype).eps)
    out = np.empty_like(x)
    assert fa.log_softmax_grad(fa.log_softmax(x, axis=0), g, axis=0, out=out) is out
    assert fa.softmax_grad(y.astype(np.float16), g.astype(np.float16), axis=-1).dtype == np.float16
    with pytest.raises(np.exceptions.AxisError):
        fa.softmax_grad(y, g, axis=2)
    with pytest.raises(ValueError):
        fa.softmax_grad(y, g[:3], axis=-1)


def test_threads_give_the_same_bits():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4096, 64))
    g = rng.standard_normal(x.shape)
    y = fa.softmax(x, axis=-1)
    before = fa.get_num_threads()
    try:
        fa.set_num_threads(1)
        one = [fa.softmax_grad(y, g, axis=-1), fa.log_softmax_grad(y, g, axis=0), fa.logsumexp_grad(x, None, axis=-1)]
        fa.set_num_threads(3)
        two = [fa.softmax_grad(y, g, axis=-1), fa.log_softmax_grad(y, g, axis=0), fa.logsumexp_grad(x, None, axis=-1)]
    finally:
        fa.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("which", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_rowwise_grads_against_mpmath_every_variant(which, dtype, isa):
    """Every lane layout (contiguous slices with vector tails, 1 to 9 columns at a time),
    masks and a grad_output of ones, against the exact result computed in mpmath at 60 digits: within
    4 ULP of the larger of its two terms (y g and y s, or g and e^y s), the bound the
    kernel's comment states (s, the slice's sum, is compensated)."""
    mpmath = pytest.importorskip("mpmath")
    mp = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp
    mp.dps = 60
    rng = np.random.default_rng(6)
    fwd, grad = getattr(fa, which), getattr(fa, which + "_grad")
    cases = (((3, 1), -1, 3), ((2, 7), -1, 3), ((2, 37), -1, 3), ((1, 70), -1, 3), ((5, 3, 9), 1, 3), ((11, 5), 0, 3),
             ((2, 37), -1, 80), ((5, 3, 9), 1, 80),     # scale 80: y far below -110 (the float32 exp's clamp)
             ((3, 61), -1, 250), ((1, 300), -1, 250))   # scale 250: float64 y in the subnormals (no assist)
    for shape, axis, scale in cases:
        x = (rng.standard_normal(shape) * scale).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        mask = rng.uniform(size=shape) < 0.8
        for gg, m in ((g, None), (None, None), (g, mask)):
            y = fwd(x, axis=axis, where=m)
            g1 = np.ones_like(y) if gg is None else gg
            got = grad(y, g1, axis=axis, where=m)
            yy, g1 = np.moveaxis(y, axis, -1), np.moveaxis(g1, axis, -1)
            mm = np.ones(yy.shape, bool) if m is None else np.moveaxis(m, axis, -1)
            gt = np.moveaxis(got, axis, -1)
            for idx in np.ndindex(yy.shape[:-1]):
                ys, gs, ks = yy[idx], g1[idx], mm[idx]
                terms = [mp.mpf(float(gv)) * (1 if which == "log_softmax" else mp.mpf(float(yv)))
                         for yv, gv, k in zip(ys, gs, ks) if k]
                s = mp.fsum(terms)
                for j, (yv, gv, k) in enumerate(zip(ys, gs, ks)):
                    if not k:
                        assert gt[idx][j] == 0
                        continue
                    yv, gv = mp.mpf(float(yv)), mp.mpf(float(gv))
                    if which == "softmax":
                        a, b = yv * gv, yv * s
                    else:
                        a, b = gv, mp.exp(yv) * s
                    scale = max(abs(float(a)), abs(float(b)), np.finfo(dtype).tiny)
                    err = abs(float(mp.mpf(float(gt[idx][j])) - (a - b)))
                    assert err <= 4 * np.spacing(dtype(scale)), (shape, axis, idx, j, err)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_logsumexp_grad_with_b_against_mpmath(dtype, isa):
    """logsumexp_grad(a, b=b) = b_j e^(a_j) / sum_k b_k e^(a_k) (the derivative of log|sum|),
    with negative and zero weights and where=, against mpmath at 50 digits: within 8 ULP plus
    the conditioning of e^(a - lse) on a rounded lse (4 ULP of lse, relative)."""
    mpmath = pytest.importorskip("mpmath")
    mp = mpmath.mp
    mp.dps = 50
    rng = np.random.default_rng(7)
    a = (rng.standard_normal((6, 9)) * 5).astype(dtype)
    b = rng.uniform(-0.5, 2.0, a.shape).astype(dtype)
    b[rng.uniform(size=a.shape) < 0.15] = 0
    b[0] = rng.uniform(1e-30, 1e-25, a.shape[1])            # tiny weights: a shifted logsumexp
    where = rng.uniform(size=a.shape) < 0.85
    for wh in (None, where):
        got = fa.logsumexp_grad(a, None, axis=-1, b=b, where=wh)
        lse = fa.logsumexp(a, axis=-1, b=b, where=wh)
        assert got.dtype == dtype
        for r in range(a.shape[0]):
            keep = [k for k in range(a.shape[1]) if (wh is None or wh[r, k]) and b[r, k] != 0]
            S = mp.fsum(mp.mpf(float(b[r, k])) * mp.exp(mp.mpf(float(a[r, k]))) for k in keep)
            eps = float(np.finfo(dtype).eps)
            rtol = 8 * eps + 4 * eps * max(1.0, abs(float(lse[r])))
            for k in range(a.shape[1]):
                if k not in keep:
                    assert got[r, k] == 0
                    continue
                want = mp.mpf(float(b[r, k])) * mp.exp(mp.mpf(float(a[r, k]))) / S
                assert abs(float(got[r, k]) - float(want)) <= rtol * abs(float(want)) + float(np.finfo(dtype).tiny), \
                    (r, k, float(got[r, k]), float(want))


def test_unaligned_operands():
    """Unaligned y and grad_output (a Dask worker's network buffers): the aligned results."""
    def unaligned(a):
        buf = np.empty(a.nbytes + 1, np.uint8)
        u = np.frombuffer(buf[1:].data, dtype=a.dtype, count=a.size).reshape(a.shape)
        u[...] = a
        assert not u.flags.aligned
        return u
    rng = np.random.default_rng(9)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((5, 9)).astype(dtype)
        g = rng.standard_normal(x.shape).astype(dtype)
        for which in ("softmax", "log_softmax"):
            y = getattr(fa, which)(x, axis=-1)
            f = getattr(fa, which + "_grad")
            np.testing.assert_array_equal(f(unaligned(y), unaligned(g), axis=-1), f(y, g, axis=-1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_grad_with_weights_against_mpmath(isa, dtype):
    """logsumexp_grad(a, b=w) = w e^a / sum(w e^a): within 4 eps relative (8 ULP) of mpmath on
    well-conditioned slices (sum |terms| <= 4 |sum|), positive and mixed weights, offsets to
    +-30.  The per-slice factor e^(lse0 - lse) carried both logsumexps' rounding: 28 eps float64,
    24 float32 (third differential fuzz); it is now b p0 / sum(b p0)."""
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(5)
    eps = float(np.finfo(dtype).eps)
    worst = 0.0
    with mpmath.workdps(40):
        for t in range(120):
            n = int(rng.integers(2, 30))
            a = (rng.normal(0, 3, n) + rng.choice([0, 10, -10, 30])).astype(dtype)
            b = (rng.uniform(0.1, 2, n) if t % 2 else rng.uniform(-1, 2, n)).astype(dtype)
            terms = [mpmath.mpf(float(w)) * mpmath.exp(mpmath.mpf(float(x))) for x, w in zip(a, b)]
            S = mpmath.fsum(terms)
            if S == 0 or mpmath.fsum(abs(q) for q in terms) > 4 * abs(S):
                continue
            got = fa.logsumexp_grad(a, None, b=b)
            assert got.dtype == dtype
            for j in range(n):
                ref = terms[j] / S
                if ref != 0:
                    worst = max(worst, float(abs(mpmath.mpf(float(got[j])) - ref) / abs(ref)) / eps)
    assert worst <= 4.0, worst


def test_results_beyond_a_narrower_dtype_are_inf_without_a_warning():
    """A gradient too large for float16 (computed in float32) or for a narrower out= is inf with no
    RuntimeWarning, as the forwards and the element-wise gradients (SPEC section 4, README out=); the
    final cast leaked 'overflow encountered in cast' (fourth differential fuzz).  The test
    configuration makes a RuntimeWarning an error."""
    y = np.log(np.array([[0.25, 0.25, 0.5]], np.float16))
    g = np.array([[65000, 65000, -65000]], np.float16)
    r = fa.log_softmax_grad(y, g, axis=-1)              # -65000 - 0.5 * 65000 in float32
    assert r.dtype == np.float16 and r[0, 2] == -np.inf and r[0, 0] == np.float16(48750.0)
    out = np.empty((1, 3), np.float32)
    big = np.array([[1e300, 1e300, -1e300]])
    assert fa.log_softmax_grad(np.log([[0.25, 0.25, 0.5]]), big, axis=-1, out=out) is out
    assert np.array_equal(out, [[np.inf, np.inf, -np.inf]])
    out = np.empty((1, 2), np.float32)
    assert fa.softmax_grad(np.array([[0.5, 0.5]]), np.array([[1e300, -1e300]]), axis=-1, out=out) is out
    assert np.array_equal(out, [[np.inf, -np.inf]])
    assert fa.logsumexp_grad(np.zeros((1, 2)), np.array([1e300]), axis=-1, out=out) is out
    assert np.array_equal(out, [[np.inf, np.inf]])


def test_logsumexp_grad_of_a_non_finite_grad_output():
    """grad_output = inf or NaN: a product with it (NaN where the weight is 0, as the element-wise
    gradients give 0 * inf) with no 'invalid value' RuntimeWarning, and entries left out (where=False,
    b == 0, a fully masked or all -inf slice) still exactly 0, as softmax_grad's where= (the multiply
    leaked the warning and gave those entries NaN; fourth differential fuzz)."""
    a = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]])
    g = np.array([np.inf, np.inf, np.nan])
    r = fa.logsumexp_grad(a, g, axis=-1)
    assert np.isposinf(r[0, [0, 2]]).all() and np.isnan(r[0, 1]) and np.isnan(r[2]).all()
    assert np.array_equal(r[1], [0.0, 0.0, 0.0])
    m = np.array([[True, True, False], [True, True, True], [False, True, True]])
    r = fa.logsumexp_grad(a, g, axis=-1, where=m)
    assert r[0, 2] == 0 and r[2, 0] == 0 and np.array_equal(r[1], [0.0, 0.0, 0.0])
    b = np.array([0.0, 1.0, 2.0])
    r = fa.logsumexp_grad(a, g, axis=-1, b=b)
    assert np.array_equal(r[:, 0], [0.0, 0.0, 0.0]) and np.isposinf(r[0, 2]) and np.isnan(r[2, 1:]).all()


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("which", ["softmax_grad", "log_softmax_grad"])
def test_an_infinite_grad_output_makes_its_slice_nan_on_every_layout(which, dtype, isa):
    """A +-inf in grad_output makes the slice's sum infinite, and every entry of that slice NaN
    (NaN - inf at the inf itself, so the rest follows the rows and long slices, whose sums turn
    an infinite total into NaN).  float32 columns (the pairs of lanes walked down a column and
    the strips taken at row strides of a multiple of 1 KB) kept the sum at +-inf and gave
    -+inf for the slice's other entries; the other slices must stay finite."""
    f, forward = getattr(fa, which), getattr(fa, which.replace("_grad", ""))
    rng = np.random.default_rng(11)
    n = 40
    for inner in (1, 3, 17, 256):                      # rows; column pairs; pairs + tail; strips
        x = rng.standard_normal((n, inner)).astype(dtype)
        y = forward(x, axis=0)
        for bad in (np.inf, -np.inf):
            g = rng.standard_normal((n, inner)).astype(dtype)
            g[5, inner // 2] = bad
            for where in (None, np.ones((n, inner), bool)):
                r = f(y, g, axis=0, where=where)
                assert np.isnan(r[:, inner // 2]).all(), (inner, bad, where is None)
                others = np.delete(r, inner // 2, axis=1)
                assert np.isfinite(others).all(), (inner, bad, where is None)
                # the same slice as a row gives the same pattern
                row = f(np.ascontiguousarray(y.T), np.ascontiguousarray(g.T), axis=-1)
                assert np.isnan(row[inner // 2]).all()


@pytest.mark.parametrize("n", [8, 40, 1000])
def test_float32_sum_beyond_float32_range(isa, n):
    """softmax_grad / log_softmax_grad of float32 rows whose sum s (g y or g, float64) lies beyond
    float32's range: the outputs are finite float32 values (float64 lanes), not s rounded to inf
    (log_softmax_grad gave -inf for every entry, the fourth differential fuzz of 2026-12-06)."""
    g = np.zeros(n, np.float32)
    g[:2] = 3.4e38
    for which in ("softmax", "log_softmax"):
        y = getattr(fa, which)(np.zeros(n, np.float32))
        got = getattr(fa, which + "_grad")(y, g, axis=-1)
        y64, g64 = y.astype(np.float64), g.astype(np.float64)
        if which == "softmax":
            want = y64 * (g64 - np.sum(g64 * y64))
        else:
            want = g64 - np.exp(y64) * np.sum(g64)
        assert np.all(np.isfinite(got)), (which, got[:4])
        np.testing.assert_allclose(got, want.astype(np.float32), rtol=4 * np.finfo(np.float32).eps)
        col = getattr(fa, which + "_grad")(y[:, None], g[:, None], axis=0)[:, 0]   # columns agree
        np.testing.assert_allclose(got, col, rtol=4 * np.finfo(np.float32).eps)


def test_float64_softmax_grad_of_a_huge_grad_output(isa):
    """float64 softmax_grad with |g| >= 2^995 (1.5e300): the sum's exact product g y is Dekker's
    splitting on the variants without FMA (scalar, SSE2), which overflowed and made the slice NaN
    on every layout (rows, masked rows, columns, one long slice; differential fuzz, 2026-12-06)."""
    y = np.array([0.25, 0.75])
    g = np.array([1.5e300, -1e300])
    want = y * (g - np.sum(g * y))
    for m in (None, np.array([True, True])):
        np.testing.assert_allclose(fa.softmax_grad(y, g, axis=-1, where=m), want, rtol=1e-15)
    np.testing.assert_allclose(fa.softmax_grad(y[:, None], g[:, None], axis=0)[:, 0], want, rtol=1e-15)
    n = 2**18 + 3
    y = np.full(n, 1.0 / n)
    g = np.full(n, 1.5e300)
    g[::2] = -1e300
    g[1] = 1.7e308 / 2
    s = np.sum(g * y)
    got = fa.softmax_grad(y, g, axis=None)
    np.testing.assert_allclose(got[:3], y[:3] * (g[:3] - s), rtol=1e-14)
    assert np.isfinite(got).all()


def _log_softmax_grad_exact(y, g):
    """g - e^y sum(g) per row of 2-D float64 (y, g), in exact rationals (e^y from mpmath at 80
    digits), rounded once; +-inf where the exact value is beyond the double range."""
    import mpmath
    from fractions import Fraction
    mpmath.mp.dps = 80
    out = np.empty(y.shape)
    big = Fraction(2) ** 1024 - Fraction(2) ** 970          # values from here on round to inf
    for r in range(y.shape[0]):
        s = sum(Fraction(float(v)) for v in g[r])
        for k in range(y.shape[1]):
            e = mpmath.exp(mpmath.mpf(float(y[r, k])))
            v = Fraction(float(g[r, k])) - Fraction(int(e.man)) * Fraction(2) ** int(e.exp) * s
            out[r, k] = float(v) if abs(v) < big else (np.inf if v > 0 else -np.inf)
    return out


def test_float64_log_softmax_grad_whose_sum_overflows(isa):
    """float64 log_softmax_grad where sum(grad_output) overflows the double range while each
    g - e^y s is finite: the slice was NaN on every layout (differential fuzz, 2026-12-06);
    now the sum and the outputs are taken again at g 2^-64.  Rows, masked rows, columns (pairs
    and strips), one long slice in blocks; within 4 ULP of the larger term, inf where the exact
    value is beyond the range."""
    assert_array_equal = np.testing.assert_array_equal
    assert_array_equal(fa.log_softmax_grad(np.log([0.5, 0.5]), [1e308, 1e308]), [0.0, 0.0])
    rng = np.random.default_rng(11)
    z = rng.standard_normal((3, 40)) * 3
    y = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    g = rng.uniform(-0.3, 1.0, size=y.shape) * 1.7e308
    g[2] = rng.uniform(0.5, 1.0, size=40) * 1e307          # a row whose results are all finite
    want = _log_softmax_grad_exact(y, g)
    assert np.isfinite(want[2]).all() and np.sum(g[2] / 2**64) > np.finfo(np.float64).max / 2**64
    top = np.finfo(np.float64).max
    ps = np.abs(np.exp(y) * np.sum(g / 2**64, axis=-1, keepdims=True))     # e^y s 2^-64
    larger = np.maximum(np.abs(g), np.minimum(ps, top / 2**64) * 2.0**64)
    ulp = np.spacing(np.minimum(larger, 2.0**1023))

    def check(got):
        assert_array_equal(np.isinf(got), np.isinf(want))
        assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
        fin = np.isfinite(want)
        assert np.all(np.abs(got[fin] - want[fin]) <= 4 * ulp[fin])
    check(fa.log_softmax_grad(y, g, axis=-1))
    check(fa.log_softmax_grad(y, g, axis=-1, where=np.ones(y.shape, bool)))
    check(fa.log_softmax_grad(y.T, g.T, axis=0).T)                          # column pairs
    yt, gt = np.zeros((40, 128)), np.zeros((40, 128))                        # strips: 1 KB rows
    yt[:, :3], gt[:, :3] = y.T, g.T
    yt[:, 3:] = np.log(1 / 40)
    check(fa.log_softmax_grad(yt, gt, axis=0)[:, :3].T)
    # one long slice (blocks of 2^16 entries, threads)
    n = 2**18 + 5
    yl = np.full(n, -np.log(n))
    gl = np.full(n, 1e303)
    gl[::3] = 2e303
    s = np.sum(gl / 2**64)                                        # 2^-64 of 4.4e308: beyond the range
    before = fa.get_num_threads()
    try:
        for threads in (1, 2):
            fa.set_num_threads(threads)
            got = fa.log_softmax_grad(yl, gl, axis=None)
            np.testing.assert_allclose(got[:6], gl[:6] - np.exp(yl[:6]) * s * 2.0**64, rtol=1e-15)
            assert np.isfinite(got).all()
    finally:
        fa.set_num_threads(before)


def test_float64_log_softmax_grad_at_the_edge_of_the_range_a_review(isa):
    """The cases a review of the first overflow fix found (2026-12-07), each against exact
    rationals: a column's result must not depend on its neighbours' (an overflowing or NaN
    column made the whole lane group scaled), lanes that overflow while the total does not, a
    finite sum near DBL_MAX (em s overflowed: -inf), and y = -inf or below -760 beside a sum
    >= 2^21 (the exp's clamp at -760 gave e^-760 s, not 0)."""
    # neighbours: column 1 alone and beside an overflowing / NaN column 0
    y = np.full((4, 2), np.log(0.25))
    g = np.array([[1e308, 1e-300], [1e308, 2e-300], [1e308, 3e-300], [1e308, -5e-301]])
    np.testing.assert_array_equal(fa.log_softmax_grad(y, g, axis=0)[:, 1],
                                  fa.log_softmax_grad(y[:, 1:], g[:, 1:], axis=0)[:, 0])
    yc = np.full((4, 2), np.log(0.25))
    yc[:, 1] = [-0.01, -740, -740, -740]
    gc = np.array([[np.nan, 1], [1, 0], [1, 0], [1, 0]])
    np.testing.assert_array_equal(fa.log_softmax_grad(yc, gc, axis=0)[:, 1],
                                  fa.log_softmax_grad(yc[:, 1:], gc[:, 1:], axis=0)[:, 0])
    yw, gw = np.full((40, 128), np.log(1 / 40)), np.zeros((40, 128))
    gw[:, 0] = 1e308
    gw[:, 1] = np.linspace(-3e-300, 5e-300, 40)
    alone = fa.log_softmax_grad(yw[:, 1:2], gw[:, 1:2], axis=0)[:, 0]
    np.testing.assert_array_equal(fa.log_softmax_grad(yw, gw, axis=0)[:, 1], alone)   # a strip: rows of 1 KB
    # lanes overflow, the total does not; a finite total near DBL_MAX; y = -inf beside big sums
    cases = [
        (np.full(17, -np.log(17)), np.array([1e308] * 8 + [-1e308] * 8 + [1e-300])),
        (np.log([0.6, 0.4]), np.array([1.5e308, 0.2e308])),
        (np.array([np.log(0.5), np.log(0.5), -np.inf]), np.array([1e308, 1e308, 0.0])),
        (np.array([np.log(0.5), np.log(0.5), -np.inf, -800.0, -1000.0]), np.array([5e9, 5e9, 0.0, 0.0, 0.0])),
        (np.array([np.log(0.5), np.log(0.5), -800.0, -1500.0, -745.5]), np.array([3e300, 1e300, 0.0, 0.0, 0.0])),
        (np.array([0.0, -1416.143435309651, -1416.775]), np.array([1.7e308, 0.0, 0.0])),   # 4.97 ULP once
    ]
    for yy, gg in cases:
        want = _log_softmax_grad_exact(yy[None, :], gg[None, :])[0]
        got = fa.log_softmax_grad(yy, gg)
        assert_within = np.abs(got - want) <= 4 * np.spacing(np.maximum(np.abs(gg), np.abs(want)))
        assert np.all(np.isfinite(got) == np.isfinite(want)) and np.all(assert_within | (got == want)), (yy, gg, got, want)
        np.testing.assert_array_equal(fa.log_softmax_grad(yy[:, None], gg[:, None], axis=0)[:, 0], got)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_softmax_grad_difference_beyond_the_range(dtype, isa):
    """softmax_grad where g - s overflows (|g| and s = sum(g y) near the largest finite value, of
    opposite signs) while y (g - s) is finite: float32 rows (float32 lanes) and float64 gave
    +-inf (differential fuzz, 2026-12-06); now y (g - s) as with an unbounded exponent."""
    top = 3e38 if dtype == np.float32 else 1.7e308
    y = np.array([0.01, 0.99], dtype)
    g = np.array([top, -top], dtype)
    want = np.float64(y[0]) * (np.float64(g[0]) / 2 - np.sum(y.astype(np.float64) * g) / 2) * 2
    if dtype == np.float32:
        want = np.float64(y[0]) * (np.float64(g[0]) - np.sum(y.astype(np.float64) * g))
    eps = np.finfo(dtype).eps
    for yy, gg, axis in ((y, g, -1), (y[:, None], g[:, None], 0), (np.tile(y[:, None], 5), np.tile(g[:, None], 5), 0),
                         (y, g, None)):
        for where in (None, np.ones(yy.shape, bool)):
            r = fa.softmax_grad(yy, gg, axis=axis, where=where)
            r0 = np.asarray(r).reshape(2, -1)[0]
            assert np.isfinite(r).all(), (yy.shape, axis, r)
            np.testing.assert_allclose(r0, want, rtol=4 * eps)


@pytest.mark.parametrize("dtype", (np.float16, np.float32, np.float64))
@pytest.mark.parametrize("which", ["softmax", "log_softmax"])
def test_grad_output_none_means_ones_on_every_path(which, dtype):
    """grad_output=None is ones (SPEC section 1), as for every element-wise gradient: it was read
    as np.asarray(None), an object array cast to NaN (and a broadcast cast that took 15 ms
    at (1024, 1024)).  The fast path, the general path (strided, where=, out=, 0-d) and the
    masked / Dask / xarray paths give the bits of an explicit ones grad_output."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((6, 9)) * 3).astype(dtype)
    fwd, grad = getattr(fa, which), getattr(fa, which + "_grad")
    for axis in (-1, 0, None, (0, 1)):
        y = fwd(x, axis=axis)
        for yy in (y, y[:, ::2], y.T):
            ones = np.ones_like(yy)
            want = grad(yy, ones, axis=axis)
            got = grad(yy, None, axis=axis)
            assert got.dtype == want.dtype == dtype
            np.testing.assert_array_equal(got, want)
            assert np.all(np.isfinite(got))
            keep = rng.random(yy.shape) > 0.3
            np.testing.assert_array_equal(grad(yy, None, axis=axis, where=keep),
                                          grad(yy, ones, axis=axis, where=keep))
            out = np.full_like(yy, np.nan)
            assert grad(yy, None, axis=axis, out=out) is out
            np.testing.assert_array_equal(out, want)
    # the value itself, from the definitions in float64: softmax's is y (1 - sum y), log_softmax's 1 - n e^y
    y64 = fwd(x.astype(np.float64), axis=-1)
    ref = (y64 * (1 - y64.sum(axis=-1, keepdims=True)) if which == "softmax"
           else 1 - np.exp(y64) * x.shape[-1])
    np.testing.assert_allclose(grad(y64, None, axis=-1), ref, atol=1e-14)
    assert grad(np.asarray(y64[0, 0]), None).shape == ()
    masked = np.ma.masked_array(y, mask=rng.random(y.shape) > 0.7)
    got = grad(masked, None, axis=-1)
    assert got.dtype == dtype
    assert np.ma.allequal(got, grad(masked, np.ones_like(y), axis=-1))
    try:
        import dask.array as da
    except ImportError:
        return
    lazy = grad(da.from_array(y, chunks=(2, 9)), None, axis=-1)
    assert lazy.dtype == dtype
    np.testing.assert_array_equal(lazy.compute(), grad(y, None, axis=-1))


def test_float32_logsumexp_grad_of_tiny_softmax_entries_times_a_large_grad_output(isa):
    """A float32 softmax entry below 2^-126 has a few significant bits (or is 0: SPEC section 6
    allows an output within one smallest normal), and a grad_output above 1 carried that
    rounding into a normal product: logsumexp_grad(float32([0, -100]), float32(1e30))[1] was
    1.7% off.  Such slices now come from the float64 kernels; the result is the float64
    gradient rounded once, on every path (fast, where=, b=, columns, 0-d grad_output)."""
    a = np.zeros((5, 6), np.float32)
    a[1], a[2], a[3, :3] = -100.0, -3.0, -120.0
    a[4, 0] = -np.inf
    g = np.float32([1e30, 2.0, 1.5, 1.0, 0.5, -7e20])
    a64 = a.astype(np.float64)
    want = g * np.exp(a64 - np.log(np.exp(a64).sum(axis=0)))       # to ~1e-15 in float64
    want = want.astype(np.float32)
    keep = np.ones(a.shape, bool)
    scaled = np.abs(g) > 1            # the slices from float64; the others within SPEC's bounds
    for got in (fa.logsumexp_grad(a, g, axis=0),
                fa.logsumexp_grad(a, g, axis=0, where=keep),
                fa.logsumexp_grad(a, g[None, :], axis=0, b=np.ones_like(a)),
                fa.logsumexp_grad(np.ascontiguousarray(a.T), g, axis=1).T):
        assert got.dtype == np.float32
        np.testing.assert_array_max_ulp(got[:, scaled], want[:, scaled], maxulp=1)
        np.testing.assert_allclose(got[:, ~scaled], want[:, ~scaled], rtol=4 * 2.0 ** -23, atol=2.0 ** -126)
    assert got[4, 0] == 0 and fa.logsumexp_grad(a[:, 0], np.float32(3e30))[4] == 0   # e^-inf stays 0
    np.testing.assert_array_max_ulp(fa.logsumexp_grad(a[:, 0], np.float32(3e30)),
                                    (3e30 * np.exp(a64[:, 0] - np.log(np.exp(a64[:, 0]).sum()))).astype(np.float32),
                                    maxulp=1)
    # where |grad_output| <= 1 the product is the float32 softmax times g, as before
    small = g.copy()
    small[np.abs(small) > 1] = 0.25
    np.testing.assert_array_equal(fa.logsumexp_grad(a, small, axis=0), fa.softmax(a, axis=0) * small)
    # weights scale a tiny p0 up the same way (b p0 / sum(b p0)), with or without grad_output
    x = np.float32([0, -100])
    for bw, gg in (([1, 1e30], 2.0), ([1e-30, 1], None), ([1, 1e30], None)):
        bw = np.float32(bw)
        bx = bw.astype(np.float64) * np.exp(x.astype(np.float64))
        ref = (bx / bx.sum() * (1.0 if gg is None else gg)).astype(np.float32)
        got = fa.logsumexp_grad(x, None if gg is None else np.float32(gg), b=bw)
        np.testing.assert_array_max_ulp(got, ref, maxulp=1)
    # padded logits (-1e9: weight 0 in any precision) with a loss-scaled grad_output keep the
    # float32 path and its bits (they sent whole arrays through float64 at 10x the time)
    pad = np.zeros((4, 8), np.float32)
    pad[:, 5:] = -1e9
    pad[:, :5] = np.float32([[0.5, -1, 2, 0, 1]])
    g4 = np.full(4, 1024, np.float32)
    np.testing.assert_array_equal(fa.logsumexp_grad(pad, g4, axis=1), fa.softmax(pad, axis=1) * g4[:, None])
    np.testing.assert_array_equal(fa.logsumexp_grad(pad, g4, axis=1, where=np.ones(pad.shape, bool)),
                                  fa.softmax(pad, axis=1) * g4[:, None])
