"""The gradients (FA_BINARY kernels, y = f'(x) * grad_output), from fastact/_registry.py GRADIENTS.

Each gradient is checked on every kernel variant against mpmath (in ULPs, with and without
grad_output), against central finite differences of its forward in float64, for the
two-input loop's tail and in-place rules, and for NumPy's broadcasting, dtype and `out=`
conventions of the Python layer.
"""
import functools

import numpy as np
import pytest

import fastact as fa
from fastact._registry import BY_KERNEL, GRADIENTS

import ulp

DTYPES = (np.float32, np.float64)
GRAD_IDS = [g.kernel for g in GRADIENTS]


def _selected(fn, activation):
    """fn with the forward's `select` (gelu's approximate='tanh') applied."""
    if activation.select:
        return functools.partial(fn, **{activation.select[0]: activation.select[1]})
    return fn


def grad_fn(entry):
    return _selected(getattr(fa, entry.name), forward_of(entry))


def forward_fn(entry):
    return _selected(getattr(fa, forward_of(entry).name), forward_of(entry))


def forward_of(entry):
    return BY_KERNEL[entry.forward]


def outside_ill(entry, x):
    """The inputs where the registry's bound holds (not near a root of f')."""
    keep = np.ones(x.shape, bool)
    for lo, hi in entry.ill:
        keep &= ~((x >= lo) & (x <= hi))
    return keep


def reference(entry, x, g, params=()):
    """(hi, lo): f'(x) * g to ~106 bits (mpmath), g None = 1."""
    import mpmath as mp
    xs = np.asarray(x, np.float64).ravel()
    gs = np.ones_like(xs) if g is None else np.asarray(g, np.float64).ravel()
    hi, lo = np.empty(xs.shape), np.zeros(xs.shape)
    with mp.workdps(ulp.DIGITS):
        for i, (xv, gv) in enumerate(zip(xs, gs)):
            if np.isnan(xv) or np.isnan(gv):
                hi[i] = np.nan
                continue
            r = entry.reference(mp, mp.mpf(float(xv)), *params) * mp.mpf(float(gv))
            hi[i] = float(r)
            if np.isfinite(hi[i]):
                lo[i] = float(r - mp.mpf(hi[i]))
    return hi, lo


def sweep_inputs(entry, dtype, n=3000):
    lo, hi = forward_of(entry).domain
    x = ulp.sweep(dtype, lo, hi, n=n)
    return x[np.isfinite(x)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", GRAD_IDS)
def test_accuracy_against_mpmath(name, dtype, isa):
    """Max error <= the registry bound on every variant: the plain derivative (g = None)
    and times grad_output values over many binades (so a large g on a tiny derivative and
    a tiny g on a large one are both measured)."""
    pytest.importorskip("mpmath")
    entry = next(g for g in GRADIENTS if g.kernel == name)
    x = sweep_inputs(entry, dtype)
    x = x[outside_ill(entry, x.astype(np.float64))]
    rng = np.random.default_rng(3)
    fi = np.finfo(dtype)
    g = (rng.choice([-1.0, 1.0], x.size) * np.exp2(rng.uniform(-40, 40, x.size))).astype(dtype)
    g[:8] = [fi.max, -fi.max, fi.tiny, 1.0, 3.0, -0.5, fi.max / 4, 2.0 ** 100 if dtype == np.float64 else 2.0 ** 60]
    for gg in (None, g):
        for params in forward_of(entry).test_params:
            y = grad_fn(entry)(x, gg, *params)
            assert y.dtype == dtype
            err = ulp.ulp_errors(y, *reference(entry, x, gg, params), dtype)
            worst = int(np.argmax(err))
            assert err.max() <= entry.ulp * (1 + 1e-9), (
                f"{name} {np.dtype(dtype).name} {isa}: {err.max():.2f} ULP at x={x[worst]!r}, "
                f"g={None if gg is None else gg[worst]!r}")


# |f'(x)| in this band: where the float64 kernels scale into the subnormals on the integer
# side (exp argument below -600) and the float32 kernels take their rare path (below -80).
UNDERFLOW_BAND = {np.float64: (2.0 ** -1120, 2.0 ** -840), np.float32: (2.0 ** -170, 2.0 ** -110)}


@functools.lru_cache(maxsize=None)
def _underflow_inputs(name, dtype):
    """x (both signs, log-spaced |x| in [2, 2000]) where |f'(x)| lies in UNDERFLOW_BAND, by
    the reference; g from 2^-30 to 2^30 and both signs; the reference of f'(x) g."""
    entry = next(g for g in GRADIENTS if g.kernel == name)
    mags = np.geomspace(2.0, 2000.0, 3000)
    x = np.concatenate([-mags, mags]).astype(dtype)
    d, _ = reference(entry, x, None, forward_of(entry).test_params[0])
    lo, hi = UNDERFLOW_BAND[dtype]
    x = x[(np.abs(d) >= lo) & (np.abs(d) <= hi) & (d != 0)]
    rng = np.random.default_rng(5)
    g = (rng.choice([-1.0, 1.0], x.size) * np.exp2(rng.uniform(-30, 30, x.size))).astype(dtype)
    g[::7] = rng.standard_normal(g[::7].size)
    return x, g, reference(entry, x, g, forward_of(entry).test_params[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", [g.kernel for g in GRADIENTS if g.limits is not None and g.cost != "COPY"])
def test_accuracy_where_the_derivative_underflows(name, dtype, isa):
    """(The gradients with an exponential tail: cost class EXP or HEAVY.)
    Where f'(x) nears and enters the subnormals (the tails that the kernels route through
    their own branches so that no multiplication touches a subnormal: an Intel core's
    microcode assist), f'(x) g for g from 2^-30 to 2^30, densely: within the registry bound,
    with subnormal results held to their own spacing (not SPEC's one-smallest-normal
    exemption)."""
    pytest.importorskip("mpmath")
    entry = next(g for g in GRADIENTS if g.kernel == name)
    x, g, (hi, lo) = _underflow_inputs(name, dtype)
    assert x.size >= 20                       # the band is reached on some side
    y = grad_fn(entry)(x, g, *forward_of(entry).test_params[0])
    err = ulp.ulp_errors(y, hi, lo, dtype, subnormal="rounded")
    worst = int(np.argmax(err))
    assert err.max() <= entry.ulp, f"{err.max():.2f} ULP at x={x[worst]!r}, g={g[worst]!r}"


@pytest.mark.parametrize("name", GRAD_IDS)
def test_central_finite_differences_float64(name):
    """The derivative agrees to 1e-7 (relative; absolute below 1e-3) with the fourth-order
    central difference (8(f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h)))/12h of the forward fastact
    function, for every parameter set; the neighbourhoods of kinks are left out."""
    entry = next(g for g in GRADIENTS if g.kernel == name)
    fwd = forward_of(entry)
    lo, hi = fwd.domain
    x = np.linspace(max(lo, -20.0), min(hi, 20.0), 4001)[1:-1]
    f = forward_fn(entry)
    for params in fwd.test_params:
        edge = np.minimum(x - lo, hi - x)                       # stay inside the domain
        h = 1e-3 * np.minimum(np.maximum(1.0, np.abs(x)), edge)
        keep = np.ones(x.shape, bool)
        for k in entry.kinks(*params):
            keep &= np.abs(x - k) > 3 * h
        xs, hs = x[keep], h[keep]
        fd = (8 * (f(xs + hs, *params) - f(xs - hs, *params))
              - (f(xs + 2 * hs, *params) - f(xs - 2 * hs, *params))) / (12 * hs)
        d = grad_fn(entry)(xs, None, *params)
        err = np.abs(fd - d) / np.maximum(np.abs(d), 1e-3)
        worst = int(np.argmax(err))
        assert err[worst] < 1e-7, (params, xs[worst], d[worst], fd[worst])


@pytest.mark.parametrize("name", GRAD_IDS)
def test_special_values(name):
    entry = next(g for g in GRADIENTS if g.kernel == name)
    f = grad_fn(entry)
    assert np.isnan(f(np.nan)) and np.isnan(f(1.0, np.nan))
    if name == "sigmoid_grad":
        x = np.array([np.inf, -np.inf, 0.0, -0.0, 800.0, -1000.0])
        g = np.array([1.0, 2.0, 1.0, -1.0, 1e300, 1e300])
        y = f(x, g)
        # sigmoid'(+-inf) = 0; 1/4 at 0; a large g on a derivative below the subnormals
        assert y[0] == 0 and y[1] == 0 and y[2] == 0.25 and y[3] == -0.25
        mp = pytest.importorskip("mpmath")
        assert y[4] == pytest.approx(float(mp.exp(-800) * mp.mpf(1e300)), rel=1e-14)
        assert y[5] == pytest.approx(float(mp.exp(-1000) * mp.mpf(1e300)), rel=1e-14)
        assert np.isnan(f(np.inf, np.inf))          # 0 * inf, as torch
        assert f(np.float32(-100), np.float32(1e30)) == pytest.approx(1e30 * np.exp(-100.0), rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", GRAD_IDS)
def test_tails_in_place_and_ones(name, dtype, isa):
    """Every length 0..4*16+1 gives the bits of the long call (the tail runs the same vector
    function), g None gives the bits of g = 1, and y may be x or g."""
    entry = next(g for g in GRADIENTS if g.kernel == name)
    f = grad_fn(entry)
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(200) * 8).astype(dtype)
    g = rng.standard_normal(200).astype(dtype)
    full = f(x, g)
    for n in range(0, 66):
        for off in (0, 1, 3):
            got = f(x[off:off + n], g[off:off + n])
            np.testing.assert_array_equal(got.view(np.uint8), full[off:off + n].view(np.uint8))
    np.testing.assert_array_equal(f(x, None), f(x, np.ones_like(x)))
    xc, gc = x.copy(), g.copy()
    assert f(xc, g, out=xc) is xc
    np.testing.assert_array_equal(xc, full)
    assert f(x, gc, out=gc) is gc
    np.testing.assert_array_equal(gc, full)


@pytest.mark.parametrize("name", GRAD_IDS)
def test_infinite_and_largest_grad_output(name, isa):
    """grad_output = +-inf or +-FLT_MAX: the float32 kernel gives NaN exactly where the
    float64 kernel's result is NaN (0 * inf where f' is 0), and the same infinity where
    that one is infinite (float32 selu_grad gave NaN for x > 0 and an infinite g: its scale
    as two floats of opposite signs made inf - inf)."""
    entry = next(g for g in GRADIENTS if g.kernel == name)
    f = grad_fn(entry)
    if entry.forward == "logit":
        x = np.array([0.0, 1e-30, 0.3, 0.5, 0.7, 1 - 1e-7, 1.0])
    else:
        x = np.array([-np.inf, -100, -88, -70, -20, -3, -1, -0.5, -1e-30, -0.0, 0.0, 1e-30, 0.3,
                      0.5, 1, 2.9, 3, 5.9, 6, 20, 70, 88, 100, np.inf])
    for params in forward_of(entry).test_params:
        for gv in (np.inf, -np.inf, 3.4e38, -3.4e38):
            g = np.full(x.shape, gv)
            with np.errstate(all="ignore"):
                y64 = f(x, g, *params).astype(np.float32)
                y32 = f(x.astype(np.float32), g.astype(np.float32), *params)
            np.testing.assert_array_equal(np.isnan(y32), np.isnan(y64), err_msg=f"{params} g={gv}")
            big = np.isinf(y64) & (np.abs(y64.astype(np.float64)) == np.inf) & np.isinf(g)
            np.testing.assert_array_equal(y32[big], y64[big], err_msg=f"{params} g={gv}")


@pytest.mark.parametrize("name", GRAD_IDS)
def test_threads_give_the_same_bits(name):
    entry = next(g for g in GRADIENTS if g.kernel == name)
    f = grad_fn(entry)
    x = np.random.default_rng(2).standard_normal(3 * (1 << 20) + 7) * 5
    g = np.cos(x)
    before = fa.get_num_threads()
    try:
        fa.set_num_threads(1)
        one = f(x, g)
        fa.set_num_threads(3)
        np.testing.assert_array_equal(f(x, g), one)
        np.testing.assert_array_equal(f(x.astype(np.float32), None), f(x.astype(np.float32)))
    finally:
        fa.set_num_threads(before)


def test_broadcasting_and_dtypes():
    f = fa.sigmoid_grad
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    g = np.arange(4.0)
    y = f(x, g)
    np.testing.assert_array_equal(y, f(x) * g)                    # exact: f'(x) * g rounds once either way
    assert f(x[:, :1], g).shape == (3, 4)
    assert f(0.5, np.ones((2, 3))).shape == (2, 3)
    x32 = x.astype(np.float32)
    assert f(x32, g.astype(np.float32)).dtype == np.float32
    assert f(x32, 2.0).dtype == np.float32                          # a Python float stays weak (NEP 50)
    assert f(x32, g).dtype == np.float64                            # float32 with float64: float64
    assert f(x.astype(np.float16)).dtype == np.float16
    assert f(np.arange(3)).dtype == np.float64
    assert isinstance(f(0.0), np.float64) and f(0.0) == 0.25
    gc = np.random.default_rng(0).standard_normal((4, 3))          # C-ordered g with F-ordered x (x.T)
    np.testing.assert_array_equal(f(x.T, gc), f(np.ascontiguousarray(x.T), gc))
    with pytest.raises(TypeError, match="complex"):
        f(np.ones(3, complex))
    with pytest.raises(TypeError, match="complex"):
        f(np.ones(3), np.ones(3, complex))
    with pytest.raises(ValueError):
        f(np.ones(3), np.ones(4))


def test_out_rules():
    f = fa.sigmoid_grad
    x = np.linspace(-4, 4, 10)
    g = np.linspace(1, 2, 10)
    expected = f(x, g)
    out = np.full(10, 7.0)
    assert f(x, g, out=out) is out
    np.testing.assert_array_equal(out, expected)
    out32 = np.empty(10, np.float32)
    assert f(x, g, out=out32) is out32
    np.testing.assert_array_equal(out32, expected.astype(np.float32))
    strided = np.zeros(20)[::2]
    f(x, g, out=strided)
    np.testing.assert_array_equal(strided, expected)
    for bad, exc in ((np.zeros(9), ValueError), (np.zeros(10, int), TypeError), ([0.0] * 10, TypeError)):
        with pytest.raises(exc):
            f(x, g, out=bad)
    ro = np.zeros(10)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        f(x, g, out=ro)
    # errors before any write: a bad grad_output leaves out untouched
    out = np.full(10, 7.0)
    with pytest.raises(ValueError):
        f(x, np.ones(3), out=out)
    assert (out == 7.0).all()
    # partial overlap with x or with g: as if computed into a temporary
    buf = np.concatenate([x, [0.0]])
    f(buf[:10], g, out=buf[1:])
    np.testing.assert_array_equal(buf[1:], expected)
    buf = np.concatenate([[0.0], g])
    f(x, buf[1:], out=buf[:10])
    np.testing.assert_array_equal(buf[:10], expected)


def test_every_gradient_on_the_whole_line_has_its_limits():
    """The registry states f'(-inf), f'(+inf) (Gradient.limits) wherever the forward's domain
    is the whole line (logit's is [0, 1]: test_logit_grad_special_values)."""
    assert [g.kernel for g in GRADIENTS if g.limits is None] == [
        g.kernel for g in GRADIENTS if forward_of(g).domain != (-np.inf, np.inf)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", [g.kernel for g in GRADIENTS if g.limits is not None])
def test_limits_and_kinks(name, dtype, isa):
    entry = next(g for g in GRADIENTS if g.kernel == name)
    f = grad_fn(entry)
    lo, hi = entry.limits                  # f'(-inf), f'(+inf), default parameters: never NaN
    y = f(np.array([-np.inf, np.inf, np.finfo(dtype).min, np.finfo(dtype).max], dtype))
    assert not np.isnan(y).any()
    np.testing.assert_allclose(y, np.array([lo, hi, lo, hi], dtype), rtol=1e-6 if dtype == np.float32 else 1e-15)
    for x, v in entry.kink_values.items():    # torch's choice at the kinks, default parameters
        assert f(np.array([x], dtype))[0] == pytest.approx(v, rel=1e-6)
    # a zero derivative times an infinite grad_output is 0 where torch selects (piecewise-linear)
    assert np.isnan(f(np.array([np.nan, 1.0], dtype), np.array([1.0, np.nan], dtype))).all()


def test_logit_grad_special_values():
    f = fa.logit_grad
    y = f(np.array([0.0, 1.0, 0.5, -0.5, 1.5]))
    assert y[0] == np.inf and y[1] == np.inf and y[2] == 4.0 and np.isnan(y[3]) and np.isnan(y[4])
    y = f(np.array([0.0, 1e-7, 1e-6, 0.5, 1 - 1e-6, 1.0, -1.0]), None, 1e-6)
    np.testing.assert_array_equal(y[[0, 1, 5, 6]], 0.0)             # outside [eps, 1-eps]: 0 (torch)
    assert y[2] == pytest.approx(1 / (1e-6 * (1 - 1e-6)), rel=1e-15) and y[3] == 4.0


def test_aliases_and_select():
    x = np.linspace(-3, 3, 7)
    for alias, name in (("expit", "sigmoid"), ("log_expit", "log_sigmoid"), ("swish", "silu")):
        assert getattr(fa, alias + "_grad")(x, x).tobytes() == getattr(fa, name + "_grad")(x, x).tobytes()
    assert not np.array_equal(fa.gelu_grad(x), fa.gelu_grad(x, approximate="tanh"))
    with pytest.raises(ValueError, match="approximate must be one of"):
        fa.gelu_grad(x, approximate="fast")
    with pytest.raises(ValueError, match="min_val"):
        fa.hardtanh_grad(x, None, 2.0, 1.0)


def _torch_forward(torch, fwd, params):
    F = torch.nn.functional
    kw = {p.name: v for p, v in zip(fwd.params, params)}
    if kw.get("threshold", 0) is None:
        kw["threshold"] = float("inf")
    if fwd.select:
        kw[fwd.select[0]] = fwd.select[1]
    fn = getattr(torch, fwd.torch) if fwd.torch in ("sigmoid", "tanh", "logit") else getattr(F, fwd.torch)
    return lambda t: fn(t, **kw) if fwd.torch != "logit" else fn(t, kw["eps"])


@pytest.mark.parametrize("name", GRAD_IDS)
def test_against_torch_autograd(name):
    """f'(x) g from torch.autograd of torch's forward (float64), every parameter set,
    including the kinks (torch's convention).  torch's hardsigmoid backward multiplies by
    1/6 rounded to float32 (7e-9 relative); its gelu formulas lose absolute accuracy
    ~1e-15 in the tails (hence atol)."""
    torch = pytest.importorskip("torch")
    entry = next(g for g in GRADIENTS if g.kernel == name)
    fwd = forward_of(entry)
    lo, hi = fwd.domain
    for params in fwd.test_params:
        x = np.linspace(max(lo, -8.0), min(hi, 8.0), 1601)[1:-1]
        x = np.concatenate([x, [k for k in entry.kinks(*params) if lo < k < hi]])
        g = np.cos(7 * x) + 0.5
        t = torch.from_numpy(x.copy()).requires_grad_(True)
        _torch_forward(torch, fwd, params)(t).backward(torch.from_numpy(g))
        rtol = 1e-7 if name == "hardsigmoid_grad" else 1e-9
        np.testing.assert_allclose(grad_fn(entry)(x, g, *params), t.grad.numpy(), rtol=rtol, atol=1e-13,
                                   err_msg=f"{name} {params}")


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(1000) * 6
    g = np.random.default_rng(1).standard_normal(1000)
    for dt in DTYPES:
        # torch's float32 g s (1 - s) cancels for x > ~8 (1 - s rounded): its float64 is the peer
        xs, gs = x.astype(dt), g.astype(dt)
        s = torch.sigmoid(torch.from_numpy(xs.astype(np.float64)))
        ref = torch.ops.aten.sigmoid_backward(torch.from_numpy(gs.astype(np.float64)), s).numpy()
        # torch's 1 - s also cancels in float64 (relative error ~ 2^-53 e^|x|): compare on |x| < 10
        near = np.abs(x) < 10
        np.testing.assert_allclose(fa.sigmoid_grad(xs, gs)[near], ref[near],
                                   rtol=1e-6 if dt == np.float32 else 1e-10, atol=0)
