"""binary_cross_entropy_with_logits (+ _grad) and one_hot (src_c/losses/, fastact/_bce.py).

Checked on every kernel variant: each entry against mpmath (registry BCE_LOSSES: reference,
ulp, grad_ulp), the reductions against the exact sum of exact entries, every option
combination against a slow NumPy reference written here (the textbook form, math.fsum for
the reductions), torch where installed, central finite differences for the gradient, the
limits at +-inf and huge logits, 1/2/3 threads bit for bit, and the errors (raised before
anything is written).
"""
import itertools
import math

import numpy as np
import pytest

import fastact as fa
from fastact import _core
from fastact._registry import BCE_LOSSES
from fastact._ulp import hi_lo

import ulp

BCE = BCE_LOSSES[0]
DTYPES = (np.float32, np.float64)
REDUCTIONS = ("none", "mean", "sum")
TARGETS = (0.0, 1.0, 0.5, 0.1, 0.9, 1e-3)        # hard and soft targets
POS_WEIGHTS = (None, 0.3, 4.0)


def bce(*a, **k):
    return fa.binary_cross_entropy_with_logits(*a, **k)


def bce_grad(*a, **k):
    return fa.binary_cross_entropy_with_logits_grad(*a, **k)


# ---- the slow NumPy reference (float64; the textbook form, no shared code) -------------------

def np_softplus(z):
    with np.errstate(over="ignore"):
        return np.where(z > 30, z + np.log1p(np.exp(-np.abs(z))), np.log1p(np.exp(np.minimum(z, 30))))


def slow_bce(x, y, weight=None, pos_weight=None, reduction="mean"):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight, np.float64)
    with np.errstate(invalid="ignore"):
        a = pw * y * np_softplus(-x)
        b = (1 - y) * np_softplus(x)
        a = np.where(pw * y == 0, 0.0, a)          # the limits: 0 * inf is 0 here
        b = np.where(1 - y == 0, 0.0, b)
        loss = a + b
    if weight is not None:
        w = np.broadcast_to(np.asarray(weight, np.float64), loss.shape)
        loss = np.where(w == 0, 0.0, w * loss)
    if reduction == "none":
        return loss
    s = math.fsum(loss.ravel().tolist())
    return s / loss.size if reduction == "mean" else s


def slow_bce_grad(x, y, grad_output=None, weight=None, pos_weight=None, reduction="mean"):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight, np.float64)
    sig = 1 / (1 + np.exp(-np.clip(x, -700, 700)))
    d = (1 - y) * sig - pw * y * (1 - sig)
    g = 1.0 if grad_output is None else np.asarray(grad_output, np.float64)
    if reduction == "mean":
        g = g / x.size
    d = d * g
    if weight is not None:
        d = d * np.asarray(weight, np.float64)
    return np.broadcast_to(d, x.shape)


# ---- accuracy against mpmath ------------------------------------------------------------------

def _in(dtype, v):
    return float(np.asarray(v, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pw", POS_WEIGHTS)
def test_each_entry_within_the_bound_against_mpmath(isa, dtype, pw):
    xs = np.concatenate([ulp.sweep(dtype, n=500, seed=1), np.array([np.inf, -np.inf], dtype)])
    worst = 0.0
    for t in TARGETS:
        y = np.full(xs.shape, t, dtype)
        pwv = None if pw is None else np.full(xs.shape[-1:], pw, dtype)
        got = bce(xs, y, pos_weight=pwv, reduction="none")
        assert got.dtype == dtype
        hi, lo = ulp.reference(BCE.reference, xs, _in(dtype, t), 1.0 if pw is None else _in(dtype, pw))
        err = ulp.ulp_errors(got, hi, lo, dtype)
        worst = max(worst, float(err.max()))
        bad = np.argmax(err)
        assert err.max() <= BCE.ulp, (isa, t, pw, xs[bad], got[bad], hi[bad])
    assert worst <= BCE.ulp


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pw", POS_WEIGHTS)
def test_gradient_within_the_bound_against_mpmath(isa, dtype, pw):
    """In ULPs of the larger of the two terms (1 - y) sigmoid(x) and pw y sigmoid(-x): the
    gradient cancels where they are close (ill-conditioned there)."""
    xs = np.concatenate([ulp.sweep(dtype, n=500, seed=2), np.array([np.inf, -np.inf], dtype)])
    p, emin, _ = ulp.fmt(dtype)
    for t in TARGETS:
        y = np.full(xs.shape, t, dtype)
        tv, pv = _in(dtype, t), 1.0 if pw is None else _in(dtype, pw)
        got = bce_grad(xs, y, pos_weight=None if pw is None else np.full(1, pw, dtype), reduction="none")
        hi, lo = ulp.reference(BCE.grad_reference, xs, tv, pv)
        with np.errstate(over="ignore"):
            sig = 1 / (1 + np.exp(-xs.astype(np.float64)))
        big = np.maximum((1 - tv) * sig, pv * tv * (1 - sig))
        _, e = np.frexp(big)
        unit = np.ldexp(1.0, np.maximum(e - p, emin - p + 1))
        err = np.abs((got.astype(np.float64) - hi) - lo) / unit
        bad = np.argmax(err)
        assert err.max() <= BCE.grad_ulp, (isa, t, pw, xs[bad], got[bad], hi[bad])


@pytest.mark.parametrize("pw", POS_WEIGHTS)
def test_float32_gradient_a_multiplier_lifts_out_of_the_subnormals(isa, pw):
    """float32 logits beyond |x| = 87, where sigmoid(-|x|) is below float32's normal range (or
    0), times a multiplier above 1 (grad_output, weight, 'sum' or a loss scale): the product
    can be normal, and then must be within the bound in ULPs of its larger term, as everywhere
    (bce_grad(float32([-100]), float32([0]), float32([1e30]), reduction='none') was 1.7% off:
    the float32 sigmoid kept its subnormal few bits); subnormal results within one smallest
    normal.  Vectors mixing such lanes with ordinary ones, tails, weights, pos_weight."""
    rng = np.random.default_rng(3)
    deep = np.array([87.0, 87.5, 88.7, 90.0, 95.0, 100.0, 103.0, 104.0, 110.0, 120.0, 200.0, 1e30, np.inf])
    xs = np.concatenate([deep, -deep, rng.normal(0, 3, 40)]).astype(np.float32)
    rng.shuffle(xs)
    tiny = np.finfo(np.float32).tiny
    p_, emin, _ = ulp.fmt(np.float32)
    for t in (0.0, 1.0, 0.5, 1e-3):
        y = np.full(xs.shape, t, np.float32)
        for mult in (1e30, 2.0 ** 60, 1e8, 3.0):
            g = np.full(xs.shape, mult, np.float32)
            w = rng.uniform(0.5, 2.0, xs.shape).astype(np.float32)
            pwv = None if pw is None else np.full(1, pw, np.float32)
            got = bce_grad(xs, y, g, weight=w, pos_weight=pwv, reduction="none").astype(np.float64)
            xd, pv = xs.astype(np.float64), 1.0 if pw is None else float(np.float32(pw))
            with np.errstate(over="ignore"):      # sigmoid(x) and sigmoid(-x) each without 1 - s
                sig, sigm = 1 / (1 + np.exp(-xd)), 1 / (1 + np.exp(xd))
            ty = float(np.float32(t))
            scale = mult * w.astype(np.float64)
            want = ((1 - ty) * sig - pv * ty * sigm) * scale
            big = np.maximum((1 - ty) * sig, pv * ty * sigm) * scale
            _, e = np.frexp(big)
            unit = np.ldexp(1.0, np.maximum(e - p_, emin - p_ + 1))
            err = np.abs(got - want)
            normal = big >= tiny
            assert (err[normal] / unit[normal] <= BCE.grad_ulp).all(), (t, mult, xs[normal][np.argmax(err[normal] / unit[normal])])
            assert (err[~normal] <= tiny).all(), (t, mult)
    got = bce_grad(np.float32([-100]), np.float32([0]), np.float32([1e30]), reduction="none")
    assert abs(float(got[0]) / (1e30 * math.exp(-100)) - 1) < 2 ** -22


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ("mean", "sum"))
def test_reductions_within_the_bound_of_the_exact_sum(isa, dtype, reduction):
    import mpmath as mp
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 3, 2500), rng.normal(0, 30, 500), [1e30, -1e30, 0.0]]).astype(dtype)
    x = x.reshape(-1, 3)
    y = rng.uniform(0, 1, x.shape).astype(dtype)
    w = rng.uniform(0, 2, x.shape).astype(dtype)
    pw = np.array([0.5, 1.0, 3.0], dtype)
    got = bce(x, y, w, pw, reduction=reduction)
    assert type(got) is np.dtype(dtype).type
    with mp.workdps(ulp.DIGITS):
        terms = [mp.mpf(float(wv)) * BCE.reference(mp, mp.mpf(float(xv)), mp.mpf(float(yv)), mp.mpf(float(pv)))
                 for xv, yv, wv, pv in zip(x.ravel(), y.ravel(), w.ravel(), np.tile(pw, x.shape[0]))]
        exact = mp.fsum(terms)
        if reduction == "mean":
            exact /= x.size
        hi, lo = hi_lo([exact])
    assert ulp.ulp_errors(np.array([got]), hi, lo, dtype)[0] <= BCE.ulp


# ---- every option against the slow reference, and torch ---------------------------------------

SHAPE = (6, 5)


def options(rng, dtype):
    """(weight, pos_weight) combinations: absent, full, broadcast, scalar."""
    weights = (None, rng.uniform(0, 2, SHAPE).astype(dtype), rng.uniform(0, 2, (6, 1)).astype(dtype),
               rng.uniform(0, 2, 5).astype(dtype), 0.5)
    pws = (None, rng.uniform(0, 4, 5).astype(dtype), rng.uniform(0, 4, (1, 5)).astype(dtype), 2.0)
    return itertools.product(weights, pws)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_every_option_against_the_slow_reference(isa, dtype, reduction):
    rng = np.random.default_rng(4)
    x = (rng.normal(0, 4, SHAPE)).astype(dtype)
    x[0, :3] = [np.inf, -np.inf, 1e30]
    for soft in (False, True):
        y = (rng.uniform(0, 1, SHAPE) if soft else rng.integers(0, 2, SHAPE)).astype(dtype)
        y[0, :3] = [1, 0, 0]
        for w, pw in options(rng, dtype):
            rtol = 1e-14 if dtype == np.float64 else 2e-7
            got = bce(x, y, w, pw, reduction)
            want = slow_bce(x, y, w, pw, reduction)
            np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
            go = rng.normal(size=SHAPE).astype(dtype) if reduction == "none" else dtype(1.5)
            gg = bce_grad(x, y, go, w, pw, reduction)
            gw = slow_bce_grad(x, y, go, w, pw, reduction)
            scale = np.abs(go) * np.abs(np.broadcast_to(1.0 if w is None else w, SHAPE)) * np.maximum(
                1, np.abs(np.broadcast_to(1.0 if pw is None else pw, SHAPE)))
            if reduction == "mean":
                scale = scale / x.size
            np.testing.assert_array_less(np.abs(gg - gw), 8 * np.finfo(dtype).eps * scale + 1e-300)
            assert gg.shape == SHAPE and gg.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_agrees_with_torch(dtype, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(5)
    x = rng.normal(0, 3, SHAPE).astype(dtype)
    y = rng.uniform(0, 1, SHAPE).astype(dtype)
    for w, pw in options(rng, dtype):
        t = lambda a: None if a is None else torch.tensor(np.asarray(a, dtype))       # noqa: E731
        xt = torch.tensor(x, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(xt, t(y), t(w), reduction=reduction, pos_weight=t(pw))
        go = rng.normal(size=SHAPE).astype(dtype) if reduction == "none" else np.asarray(0.7, dtype)
        loss.backward(torch.tensor(go))
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(bce(x, y, w, pw, reduction), loss.detach().numpy(), rtol=rtol, atol=1e-6 * (
            dtype == np.float32))
        np.testing.assert_allclose(bce_grad(x, y, go, w, pw, reduction), xt.grad.numpy(), rtol=rtol,
                                   atol=10 * np.finfo(dtype).eps)


def test_limits_at_infinity_and_huge_logits(isa):
    """The exact limits (never NaN where torch's formula gives 0 * inf or inf - inf)."""
    for dtype in DTYPES:
        inf = np.inf
        x = np.array([inf, inf, inf, -inf, -inf, -inf, 1e30, -1e30, 1e30, -1e30], dtype)
        y = np.array([1, 0, 0.25, 0, 1, 0.25, 1, 0, 0, 1], dtype)
        want = np.array([0, inf, inf, 0, inf, inf, 0, 0, 1e30, 1e30], dtype)
        np.testing.assert_array_equal(bce(x, y, reduction="none"), want)
        pw = np.full(x.size, 3.0, dtype)
        big3 = 3 * float(dtype(1e30))              # |x| pw y, rounded once
        np.testing.assert_array_equal(bce(x, y, pos_weight=pw, reduction="none"),
                                      np.array([0, inf, inf, 0, inf, inf, 0, 0, 1e30, big3], dtype))
        # gradient: 1 - y at +inf, -pw y at -inf
        np.testing.assert_array_equal(bce_grad(x, y, reduction="none"),
                                      np.array([0, 1, 0.75, 0, -1, -0.25, 0, 0, 1, -1], dtype))
        np.testing.assert_array_equal(bce_grad(x, y, pos_weight=pw, reduction="none"),
                                      np.array([0, 1, 0.75, 0, -3, -0.75, 0, 0, 1, -3], dtype))
        assert bce(x[[0, 3, 6, 7]], y[[0, 3, 6, 7]], reduction="sum") == 0
        # NaN stays NaN; a weight of 0 leaves an infinite entry out
        assert np.isnan(bce(np.array([np.nan], dtype), np.array([0.0], dtype), reduction="none")[0])
        assert np.isnan(bce(np.array([1.0], dtype), np.array([np.nan], dtype), reduction="none")[0])
        assert bce(x[:2], y[:2], weight=np.array([1, 0], dtype), reduction="sum") == 0
        # an infinite entry, or a sum that overflows, makes 'sum' and 'mean' +inf, not NaN (the
        # double-double block sums' two-sum errors are inf - inf there)
        for red in ("sum", "mean"):
            assert bce(np.array([inf, 0.0], dtype), np.array([0.0, 1.0], dtype), reduction=red) == inf
            assert bce(np.array([-inf, 0.0, 2.0], dtype), np.array([1.0, 1.0, 0.5], dtype), reduction=red) == inf
        big = np.full(5, np.finfo(dtype).max, dtype)
        assert bce(big, np.zeros(5, dtype), reduction="sum") == inf            # the sum overflows
        many = np.full(70000, 1e305 if dtype == np.float64 else 1e37, dtype)   # over several blocks
        assert bce(many, np.zeros(70000, dtype), reduction="sum") == inf
        if dtype == np.float32:                    # summed in double: the mean is in range
            assert bce(many, np.zeros(70000, dtype), reduction="mean") == pytest.approx(1e37, rel=1e-6)


def test_gradient_matches_finite_differences():
    """Central differences of the float64 loss, relative 1e-7, for every option combination."""
    rng = np.random.default_rng(6)
    x = rng.normal(0, 3, SHAPE)
    for soft in (False, True):
        y = rng.uniform(0, 1, SHAPE) if soft else rng.integers(0, 2, SHAPE).astype(float)
        for (w, pw), reduction in itertools.product(options(rng, np.float64), REDUCTIONS):
            go = rng.normal(size=SHAPE) if reduction == "none" else 1.3
            g = bce_grad(x, y, go, w, pw, reduction)
            h = 1e-5 * np.maximum(1, np.abs(x))
            if reduction == "none":       # entries are independent: all perturbed at once
                fd = (bce(x + h, y, w, pw, "none") - bce(x - h, y, w, pw, "none")) / (2 * h) * go
            else:
                fd = np.empty(SHAPE)
                for i in np.ndindex(SHAPE):
                    xp, xm = x.copy(), x.copy()
                    xp[i] += h[i]
                    xm[i] -= h[i]
                    fd[i] = (bce(xp, y, w, pw, reduction) - bce(xm, y, w, pw, reduction)) / (2 * h[i]) * go
            # 1e-7 relative, plus what the difference quotient carries from the rounding of the
            # loss values it subtracts (4 eps |loss| / h: the reduced loss is a sum of many)
            size = np.abs(bce(x, y, w, pw, reduction) if reduction != "none" else
                          bce(x + h, y, w, pw, "none") + bce(x - h, y, w, pw, "none"))
            noise = 4 * np.finfo(np.float64).eps * size / h * np.abs(go)
            assert (np.abs(fd - g) <= 1e-7 * np.abs(g) + noise).all(), (reduction, np.abs(fd - g) / np.abs(g))


def test_dtypes():
    rng = np.random.default_rng(7)
    x = rng.normal(0, 2, SHAPE)
    y = rng.uniform(0, 1, SHAPE)
    h = bce(x.astype(np.float16), y.astype(np.float16), reduction="none")
    assert h.dtype == np.float16
    np.testing.assert_array_equal(h, bce(x.astype(np.float16).astype(np.float32),
                                         y.astype(np.float16).astype(np.float32), reduction="none").astype(np.float16))
    assert bce(x.astype(np.float16), y.astype(np.float16)).dtype == np.float16
    assert bce_grad(x.astype(np.float16), y.astype(np.float16)).dtype == np.float16
    # the scalar grad_output of a reduced loss does not widen the result
    assert bce_grad(x.astype(np.float32), y.astype(np.float32), np.float64(2.0)).dtype == np.float32
    assert bce_grad(x.astype(np.float32), y.astype(np.float32), np.ones(SHAPE), reduction="none").dtype == np.float64
    xi = rng.integers(-3, 3, SHAPE)
    np.testing.assert_allclose(bce(xi, (xi > 0).astype(int)), slow_bce(xi, xi > 0), rtol=1e-15)
    assert bce(x.astype(np.float32), 1.0 * (y > 0.5)).dtype == np.float64      # NumPy's promotion
    assert bce(x.astype(np.float32), (y > 0.5).astype(np.float32), pos_weight=2.0).dtype == np.float32
    with pytest.raises(TypeError, match="complex128"):
        bce(x + 0j, y)
    # empty input: 'mean' is NaN (torch), 'sum' 0, with no warning
    e = np.zeros((0, 4))
    assert np.isnan(bce(e, e)) and bce(e, e, reduction="sum") == 0
    assert bce(e, e, reduction="none").shape == (0, 4) and bce_grad(e, e).shape == (0, 4)
    # 0-d
    assert np.isclose(bce(np.float64(0.3), 1.0, reduction="none"), slow_bce(0.3, 1.0, reduction="none"))


def test_errors_name_what_is_wrong():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"reduction must be one of \('none', 'mean', 'sum'\), got 'avg'"):
        bce(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"target shape \(4, 2\).*input shape \(4, 3\)"):
        bce(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"weight of shape \(2,\).*input shape \(4, 3\)"):
        bce(x, x, weight=np.ones(2))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(4, 1\).*shape \(3,\).*\(4, 3\)"):
        bce(x, x, pos_weight=np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"grad_output of shape \(5,\)"):
        bce_grad(x, x, np.ones(5), reduction="none")
    with pytest.raises(ValueError, match=r"scalar, got shape \(4, 3\)"):
        bce_grad(x, x, np.ones((4, 3)), reduction="mean")
    with pytest.raises(ValueError, match="reduction"):
        bce_grad(x, x, reduction=None)


# ---- threads ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_give_the_same_bits(isa, dtype):
    rng = np.random.default_rng(8)
    x = rng.normal(0, 3, (900, 333)).astype(dtype)     # ~2^18.2 entries: every kernel splits, blocks cut rows
    y = rng.uniform(0, 1, x.shape).astype(dtype)
    w = rng.uniform(0, 1, x.shape).astype(dtype)
    pw = rng.uniform(0, 3, 333).astype(dtype)
    go = rng.normal(size=x.shape).astype(dtype)
    short = rng.normal(0, 3, (2 ** 17, 3)).astype(dtype)     # short rows: pos_weight tiled in the kernel
    short_pw = np.array([0.5, 1.0, 3.0], dtype)
    labels = rng.integers(0, 50, 40000)
    before = fa.get_num_threads()
    results = []
    try:
        for k in (1, 2, 3):
            fa.set_num_threads(k)
            results.append([bce(x, y, w, pw, r) for r in REDUCTIONS]
                           + [bce(x, y, reduction="mean"), bce_grad(x, y, go, w, pw, "none"),
                              bce_grad(x, y, None, None, pw, "mean"), fa.one_hot(labels, 50, dtype),
                              bce(short, short > 0, pos_weight=short_pw, reduction="sum"),
                              bce(short, short > 0, pos_weight=short_pw, reduction="none"),
                              bce_grad(short, short > 0, pos_weight=short_pw)])
    finally:
        fa.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


# ---- one_hot ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.float16, np.int64, np.uint8, bool))
def test_one_hot_against_a_slow_reference(isa, dtype):
    rng = np.random.default_rng(9)
    labels = rng.integers(0, 7, (3, 4, 5))
    for axis in range(-4, 4):
        got = fa.one_hot(labels, 7, dtype=dtype, axis=axis)
        want = np.moveaxis((labels[..., None] == np.arange(7)).astype(dtype), -1, axis)
        assert got.dtype == np.dtype(dtype) and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert fa.one_hot(np.array([2, 0], np.uint16)).shape == (2, 3)            # num_classes = max + 1
    assert fa.one_hot(np.array(3), 5).tolist() == [0, 0, 0, 1, 0]             # 0-d labels
    assert fa.one_hot(np.zeros((0, 2), int), 3).shape == (0, 2, 3)
    assert fa.one_hot([1, 0], -1).shape == (2, 2)                             # torch's -1


def test_one_hot_agrees_with_torch():
    torch = pytest.importorskip("torch")
    labels = np.random.default_rng(10).integers(0, 9, (8, 6))
    for num_classes in (None, 9, 12):
        want = torch.nn.functional.one_hot(torch.tensor(labels), -1 if num_classes is None else num_classes)
        np.testing.assert_array_equal(fa.one_hot(labels, num_classes, dtype=np.int64), want.numpy())


def test_one_hot_errors_before_any_write():
    labels = np.array([[0, 2], [5, -1]])
    with pytest.raises(IndexError, match=r"label 5 at position \(1, 0\).*num_classes=3"):
        fa.one_hot(labels, 3)
    with pytest.raises(IndexError, match=r"label -1 at position \(1, 1\)"):
        fa.one_hot(labels)                                   # num_classes = 6: only -1 is bad
    with pytest.raises(IndexError, match=r"label 18446744073709551615 at position \(0,\)"):
        fa.one_hot(np.array([2**64 - 1, 0], np.uint64), 4)
    with pytest.raises(IndexError, match=r"label -3 at position \(0,\).*num_classes=0"):
        fa.one_hot(np.array([-3, -2]))                        # no label >= 0: 0 classes (was NumPy's
                                                              # "negative dimensions are not allowed")
    with pytest.raises(ValueError, match="empty labels"):
        fa.one_hot(np.zeros(0, int))
    with pytest.raises(TypeError, match="float64"):
        fa.one_hot(np.array([1.0, 2.0]), 3)
    with pytest.raises(TypeError, match="bool"):
        fa.one_hot(np.array([True]), 3)
    with pytest.raises(ValueError, match="num_classes"):
        fa.one_hot([1], -2)
    with pytest.raises(np.exceptions.AxisError):
        fa.one_hot([1], 3, axis=2)
    # the C kernel itself checks every label before it writes: out keeps its contents
    for dtype in DTYPES:
        out = np.full(12, 7.0, dtype)
        assert _core.one_hot(np.array([0, 3, 4, 1], np.int64), out, 4, 1, 3) == 1
        assert (out == 7).all()
