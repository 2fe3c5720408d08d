"""Element-wise functions: accuracy, layouts, dtype rules, out=, errors, special values, peers.

Every test is generated from fastact/_registry.py (see tests/activations.py); the
expected values come from mpmath (tests/ulp.py), from written mathematical limits, from
NumPy's rules or from the same kernel on a contiguous copy -- never from a stored
fastact output.  Tests taking the `isa` fixture run on every kernel variant.
"""
import math

import numpy as np
import pytest

import fastact as fa
from fastact._registry import ACTIVATIONS, ANY_ZERO, BY_KERNEL

import ulp
from activations import (CASES, DTYPES, ENTRIES, assert_same_bits, bits, call, case_id, entry_id,
                         inputs, reference, slack)

INF, NAN = math.inf, math.nan
F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def native(dtype):
    return np.dtype(dtype).newbyteorder("=")


# ---------------------------------------------------------------------------------------
# accuracy against mpmath, every variant, over every binade where the output is not settled

@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_accuracy(case, dtype, isa):
    entry, params = case
    x, hi, lo = reference(entry.kernel, params, np.dtype(dtype).name)
    y = call(entry, x, params)
    assert y.dtype == dtype and y.shape == x.shape
    err = ulp.ulp_errors(y, hi, lo, dtype)
    i = int(np.argmax(err))
    assert err[i] <= slack(entry.ulp), (
        f"{case_id(case)} {np.dtype(dtype).name} on {isa}: {err[i]:.4g} ULP > bound {entry.ulp:g} "
        f"at x={x[i]!r}: got {y[i]!r}, exact {hi[i] + lo[i]!r}; "
        f"{np.count_nonzero(err > slack(entry.ulp))} of {x.size} inputs over the bound")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_float32_subnormal_results_are_rounded_once(case, isa):
    """Float32 results below the smallest normal from normal inputs (the tails of e^x, and
    k*x below 2^-126 for elu, gelu, silu ...): what one correct rounding of a value within the
    bound gives (0.5 subnormal spacing + bound ULPs of an unbounded exponent), as SciPy's
    log_expit, not merely docs/SPEC.md's one-smallest-normal; e.g. log_expit(float32(100)) =
    -3.7835059e-44 (27 subnormal spacings), sigmoid(-90) = 8.194009e-40 (not 0).  (Subnormal
    inputs are held to docs/SPEC.md's rule only, by test_accuracy: tanh rounds x*K, K = 237/256,
    before dividing it out, one subnormal spacing off.)"""
    entry, params = case
    x, hi, lo = reference(entry.kernel, params, "float32")
    normal = np.abs(x) >= np.finfo(np.float32).tiny
    x, hi, lo = x[normal], hi[normal], lo[normal]
    y = call(entry, x, params)
    excess = ulp.subnormal_excess(y, hi, lo, np.float32, slack(entry.ulp))
    i = int(np.argmax(excess))
    assert excess[i] == 0, (f"{case_id(case)} on {isa}: {excess[i]:.3g} subnormal spacings beyond one "
                            f"rounding at x={x[i]!r}: got {y[i]!r}, exact {hi[i] + lo[i]!r}")


def test_float32_subnormal_examples():
    """The values written out: exact e^-100 = 3.7200760e-44 lies between 26 and 27 subnormal
    spacings (1.4012985e-45) and rounds to 27; e^-90 ~ 8.1940126e-40; e^-103.9 ~ 9.0e-46 -> 1."""
    spacing = np.float32(2.0 ** -149)
    assert fa.log_expit(np.float32(100)) == -27 * spacing
    assert fa.expit(np.float32(-100)) == 27 * spacing
    assert fa.softplus(np.float32(-100)) == 27 * spacing
    assert fa.expit(np.float32(-90)) == np.float32(8.1940126e-40)
    assert fa.expit(np.float32(-103.9)) == spacing


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kernel", [e.kernel for e in ACTIVATIONS if e.scipy])
def test_subnormal_results_match_scipy_where_it_rounds_correctly(kernel, dtype, isa):
    """Where SciPy's result is subnormal and correctly rounded, and one rounding of any value
    within fastact's bound gives that same float, fastact's has the same bits."""
    special = pytest.importorskip("scipy.special")
    entry = BY_KERNEL[kernel]
    params = entry.test_params[0]
    x, hi, lo = reference(kernel, params, np.dtype(dtype).name)
    with np.errstate(all="ignore"):
        theirs = getattr(special, entry.scipy)(x)
    p, emin, esub = ulp.fmt(dtype)
    sub = (np.abs(hi) < 2.0 ** emin) & (hi != 0)
    rounded = ulp.ulp_errors(theirs, hi, lo, dtype, subnormal="rounded") <= 0.5
    r = np.abs(hi[sub]) / 2.0 ** esub                                   # in subnormal spacings
    in_bound = slack(entry.ulp) * np.ldexp(1.0, np.frexp(r)[1] - p)     # bound ULPs, unbounded exponent
    from_midpoint = np.abs(r % 1 - 0.5)
    pick = np.zeros(x.shape, bool)
    pick[sub] = rounded[sub] & (from_midpoint > in_bound)
    if kernel == "log_sigmoid":     # SciPy's log_expit is correctly rounded there in both dtypes
        assert np.count_nonzero(pick) >= 10, "the sweep reaches the subnormal results"
    assert_same_bits(call(entry, x[pick], params), theirs[pick], f"{kernel} subnormal results vs SciPy")


def test_ulp_measure_on_written_values():
    """The measure itself, on values written out: one float32 step above 1 is 1 ULP of 1, a
    result 1.5 spacings of 2^-30 off is 1.5 ULP; float32 subnormals: 2^-149 against exact
    0.6 * 2^-149 is SPEC-exact, 0.4 spacings by the rounded measure, and rounded once
    (excess 0); 3 * 2^-149 against exact 27.2 * 2^-149 is 24.2 spacings, 23.7 over one
    rounding (bound 0); float64 1 + 2^-52 against 1 is 1 ULP."""
    f32 = np.float32
    up = np.nextafter(f32(1), f32(2))
    assert ulp.ulp_errors([up], [1.0], [0.0], f32)[0] == 1.0
    assert ulp.ulp_errors([2.0 ** -30 * (1 + 1.5 * 2.0 ** -23)], [2.0 ** -30], [0.0], f32)[0] == 1.5
    s = 2.0 ** -149
    assert ulp.ulp_errors([s], [0.6 * s], [0.0], f32)[0] == 0.0
    assert abs(ulp.ulp_errors([s], [0.6 * s], [0.0], f32, subnormal="rounded")[0] - 0.4) < 1e-12
    assert ulp.subnormal_excess([s], [0.6 * s], [0.0], f32, 0)[0] == 0.0
    assert abs(ulp.subnormal_excess([3 * s], [27.2 * s], [0.0], f32, 0)[0] - 23.7) < 1e-9
    assert ulp.ulp_errors([1 + 2.0 ** -52], [1.0], [0.0], np.float64)[0] == 1.0
    assert ulp.ulp_errors([np.inf, 0.0], [np.inf, np.inf], [0.0, 0.0], np.float64).tolist() == [0.0, np.inf]


def _binades(x, dtype):
    """The binade exponent of each nonzero x (subnormal binades by their leading bit)."""
    x = np.abs(np.asarray(x, np.float64))
    return np.frexp(x[x != 0])[1] - 1


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_sweep_covers_every_binade(case, dtype):
    """The accuracy sweep holds every binade of the dtype on both signs (of x, or of 1 - p for
    logit), and every binade whose output the reference shows unsettled (not the same value at
    its two edges, nor the same multiple of x) holds the full count of random points."""
    entry, params = case
    name = np.dtype(dtype).name
    x, hi, lo = reference(entry.kernel, params, name)
    p, emin, esub = ulp.fmt(dtype)
    all_binades = np.arange(esub, np.finfo(dtype).maxexp)
    per_binade = __import__("activations").ACCURACY_DENSITY[name][0]
    sides = [x[x > 0], -x[x < 0]] if entry.domain[0] < 0 else [x[x > 0]]
    if entry.kernel == "logit":
        sides.append(1 - x[(x > 0.5) & (x < 1)].astype(np.float64))
        all_binades = all_binades[all_binades >= -p]          # 1 - p >= 2^-24 (2^-53)
    for side in sides:
        e, counts = np.unique(_binades(side, dtype), return_counts=True)
        missing = np.setdiff1d(all_binades[all_binades <= e.max()], e)
        assert missing.size == 0, f"binades {missing} hold no input"
    for sign in (1, -1) if entry.domain[0] < 0 else (1,):
        edges = sign * np.ldexp(1.0, all_binades).astype(dtype)
        edges = edges[np.isfinite(edges) & (edges >= entry.domain[0]) & (edges <= entry.domain[1])].astype(np.float64)
        h, l = ulp.reference(entry.reference, edges, *params)
        with np.errstate(all="ignore"):
            r = h.astype(dtype)
            k = (h + l) / edges
            unsettled = ~((r[:-1] == r[1:]) | (np.abs(k[:-1] - k[1:]) <= np.abs(k[1:]) * 2.0 ** (-p - 4)))
        want = _binades(edges[:-1][unsettled], dtype)
        side = sign * x[sign * x > 0]
        e, counts = np.unique(_binades(side, dtype), return_counts=True)
        have = dict(zip(e.tolist(), counts.tolist()))
        n_values = 2.0 ** (want - np.maximum(want - p + 1, esub))     # floats in the binade
        short = [b for b, n in zip(want.tolist(), n_values.tolist()) if have.get(b, 0) < min(per_binade, n)]
        assert not short, f"unsettled binades with fewer than {per_binade} inputs: {short}"


def _gelu_tanh_rounded_cubic(x):
    """gelu 'tanh' as x*sigmoid(2u) with the cubic u rounded before exp(2u): the float64
    formula issue 8 found hundreds of ULP off for x < -10."""
    c1 = 2 * math.sqrt(2 / math.pi)
    with np.errstate(over="ignore", invalid="ignore"):
        w = c1 * x + c1 * 0.044715 * x ** 3
        return x / (1 + np.exp(-w))


def test_sweep_finds_the_rounded_cubic_of_gelu_tanh():
    """The float64 sweep of gelu 'tanh' measures the rounded-cubic formula far above its bound
    on x < 0, hundreds of ULP from x = -8 down (where exp(2u) turns u's rounding into a relative error)."""
    entry = BY_KERNEL["gelu_tanh"]
    x, hi, lo = reference("gelu_tanh", (), "float64")
    err = ulp.ulp_errors(_gelu_tanh_rounded_cubic(x), hi, lo, np.float64)
    assert err.max() > 100
    assert np.all(x[err > 100] < -8) and np.all(x[err > entry.ulp] < 0)
    assert np.count_nonzero((x < -10) & (x > -40)) >= 50


# ---------------------------------------------------------------------------------------
# shapes and memory layouts: bit-identical to the same kernel on a contiguous copy

BASE_N = 256
TAIL_SIZES = range(0, 4 * 16 + 2)      # every tail of every vector width (up to 16 lanes x 4)


def _misaligned(b):
    buf = np.zeros(b.nbytes + 1, np.uint8)
    v = buf[1:].view(b.dtype)
    v[...] = b
    assert not v.flags.aligned
    return v


def _read_only(b):
    c = b.copy()
    c.flags.writeable = False
    return c


LAYOUTS = {
    "0-d": lambda b: np.array(b[5]),
    "empty": lambda b: b[:0],
    "empty-0x3": lambda b: b[:0].reshape(0, 3),
    "empty-3x0": lambda b: b[:0].reshape(3, 0),
    "2d-C": lambda b: b[:240].reshape(12, 20),
    "2d-F": lambda b: np.asfortranarray(b[:240].reshape(12, 20)),
    "transposed": lambda b: b[:240].reshape(12, 20).T,
    "2d-negative-strides": lambda b: b[:240].reshape(12, 20)[::-1, ::-2],
    "3d-sliced": lambda b: b[:240].reshape(4, 6, 10)[:, 1::2, ::3],
    "misaligned": _misaligned,
    "misaligned-2d": lambda b: _misaligned(b[:240]).reshape(12, 20),
    "byte-swapped": lambda b: b.astype(b.dtype.newbyteorder("S")),
    "byte-swapped-strided": lambda b: b.astype(b.dtype.newbyteorder("S"))[::-3],
    "read-only": _read_only,
    "read-only-strided": lambda b: _read_only(b)[1::2],
    **{f"stride{s:+d}": (lambda s: lambda b: b[::s])(s) for s in (-4, -3, -2, -1, 2, 3, 4)},
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_tails_and_strides(entry, dtype, isa):
    """Every size 0..65 at several offsets and strides +-1..4 gives, element by element,
    what the same kernel gives for that element inside a long contiguous run."""
    base = inputs(entry.kernel, dtype, BASE_N)
    full = call(entry, base)
    for step in (1, 2, 3, 4, -1, -2, -3, -4):
        strided, expected_all = base[::step], full[::step]
        for offset in (0, 1, 3):
            for n in TAIL_SIZES:
                got = call(entry, strided[offset:offset + n])
                assert_same_bits(got, expected_all[offset:offset + n],
                                 f"{entry.kernel} {isa} step {step} offset {offset} size {n}")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_layouts(entry, dtype, isa):
    base = inputs(entry.kernel, dtype, BASE_N)
    for name, make in LAYOUTS.items():
        x = make(base)
        contiguous = np.array(x, dtype=native(x.dtype), order="C", copy=True)
        expected = call(entry, contiguous)
        got = call(entry, x)
        if x.ndim == 0:
            assert type(got) is np.dtype(dtype).type, f"{name}: 0-d input gives {type(got)}"
        else:
            assert type(got) is np.ndarray
        assert_same_bits(got, expected, f"{entry.kernel} {isa} layout {name}")
        if x.ndim:
            assert_same_bits(np.ravel(expected, order="K"),
                             call(entry, contiguous.ravel()), f"{name} flattened")


# ---------------------------------------------------------------------------------------
# out=

SENTINEL = -12345.0


def _other(dtype):
    return F32 if np.dtype(dtype) == F64 else F64


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_out(entry, dtype, isa):
    base = inputs(entry.kernel, dtype, BASE_N)
    full = call(entry, base)

    x = base.copy()                                       # in place
    assert call(entry, x, out=x) is x
    assert_same_bits(x, full, "out=x")

    x = base.copy()                                       # in place, 2-D Fortran order
    xf = np.asfortranarray(x[:240].reshape(12, 20))
    assert call(entry, xf, out=xf) is xf
    assert_same_bits(xf, full[:240].reshape(12, 20), "out=x Fortran")

    x = base.copy()                                       # in place on a strided view
    v = x[::2]
    assert call(entry, v, out=v) is v
    assert_same_bits(x[::2], full[::2], "out=x[::2]")
    assert_same_bits(x[1::2], base[1::2], "out=x[::2] leaves the rest")

    buf = np.full(2 * BASE_N, SENTINEL, dtype)            # non-contiguous out
    out = buf[::2]
    assert call(entry, base, out=out) is out
    assert_same_bits(out, full, "strided out")
    assert np.all(buf[1::2] == SENTINEL)

    out = np.empty((12, 20), dtype, order="F")            # C input, Fortran out
    assert call(entry, base[:240].reshape(12, 20), out=out) is out
    assert_same_bits(out, full[:240].reshape(12, 20), "Fortran out")

    out = np.empty(BASE_N, _other(dtype))                 # out of the other float dtype
    assert call(entry, base, out=out) is out
    with np.errstate(over="ignore"):
        assert_same_bits(out, full.astype(out.dtype), f"{out.dtype} out")

    out = np.empty(BASE_N, dtype)                         # out=(array,), as ufuncs take
    assert call(entry, base, out=(out,)) is out
    assert_same_bits(out, full, "out tuple")

    empty = np.empty((0, 3), dtype)                       # empty in, empty out
    assert call(entry, empty, out=empty) is empty

    x0, out = np.array(base[7]), np.empty((), dtype)      # 0-d in, 0-d out: the array is returned
    assert call(entry, x0, out=out) is out
    assert_same_bits(out, full[7:8].reshape(()), "0-d out")

    for shift in (1, 5, 17):                              # partial overlap, both directions
        a = base.copy()
        call(entry, a[shift:], out=a[:-shift])
        assert_same_bits(a[:-shift], full[shift:], f"f(a[{shift}:], out=a[:-{shift}])")
        assert_same_bits(a[-shift:], base[-shift:], "overlap leaves the rest")
        a = base.copy()
        call(entry, a[:-shift], out=a[shift:])
        assert_same_bits(a[shift:], full[:-shift], f"f(a[:-{shift}], out=a[{shift}:])")
        assert_same_bits(a[:shift], base[:shift], "overlap leaves the rest")
    a = base.copy()                                       # overlap through strides
    call(entry, a[::2][1:], out=a[::2][:-1])
    assert_same_bits(a[::2][:-1], full[::2][1:], "strided overlap")


def _out_errors(n, dtype):
    ro = np.full(n, SENTINEL, dtype)
    ro.flags.writeable = False
    return [
        ("list", [SENTINEL] * n, TypeError),
        ("wrong size", np.full(n + 1, SENTINEL, dtype), ValueError),
        ("wrong shape", np.full((2, n // 2), SENTINEL, dtype), ValueError),
        ("int64", np.full(n, -7, np.int64), TypeError),
        ("int32", np.full(n, -7, np.int32), TypeError),
        ("bool", np.zeros(n, bool), TypeError),
        ("read-only", ro, ValueError),
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_out_errors_leave_out_untouched(entry, dtype):
    x = inputs(entry.kernel, dtype, 64)
    for what, out, error in _out_errors(x.size, dtype):
        before = list(out) if isinstance(out, list) else out.copy()
        with pytest.raises(error):
            call(entry, x, out=out)
        if isinstance(out, list):
            assert out == before, what
        else:
            assert_same_bits(out, before, f"out untouched after the {what} error")
    out = np.full(x.size, SENTINEL, dtype)                 # dtype error with a valid out
    with pytest.raises(TypeError):
        call(entry, x.astype(np.complex128), out=out)
    assert np.all(out == SENTINEL)


def test_out_read_only_message():
    out = np.zeros(3)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fa.sigmoid(np.zeros(3), out=out)


# ---------------------------------------------------------------------------------------
# parameter errors (raised before anything is written)

def _selecting_names():
    groups = {}
    for e in ACTIVATIONS:
        if e.select:
            groups.setdefault(e.name, []).append(e)
    return groups


@pytest.mark.parametrize("name", sorted(_selecting_names()))
@pytest.mark.parametrize("bad", ["bogus", "", "NONE", None])
def test_unknown_selector_names_the_allowed_values(name, bad):
    entries = _selecting_names()[name]
    param = entries[0].select[0]
    out = np.full(4, SENTINEL)
    with pytest.raises(ValueError) as info:
        getattr(fa, name)(np.zeros(4), **{param: bad}, out=out)
    for e in entries:
        assert repr(e.select[1]) in str(info.value) or e.select[1] in str(info.value)
    assert np.all(out == SENTINEL)


def test_gelu_approximate_choices_differ():
    x = np.linspace(-3, 3, 13)
    assert not np.array_equal(fa.gelu(x, approximate="none"), fa.gelu(x, approximate="tanh"))
    assert_same_bits(fa.gelu(x), fa.gelu(x, approximate="none"), "gelu default is exact")


@pytest.mark.parametrize("call_bad", [
    lambda out: fa.celu(np.full(4, -1.0), alpha=-1.0, out=out),
    lambda out: fa.celu_grad(np.full(4, -1.0), None, -0.5, out=out),
    lambda out: fa.hardtanh(np.zeros(4), np.nan, 1.0, out=out),
    lambda out: fa.hardtanh_grad(np.zeros(4), None, -1.0, np.nan, out=out),
], ids=["celu alpha<0", "celu_grad alpha<0", "hardtanh nan min", "hardtanh_grad nan max"])
def test_parameters_outside_the_domain_raise_before_any_write(call_bad):
    """celu's alpha must be > 0 (alpha < 0 gave -0.0 for celu(-1, -1), torch -1.718), and a
    NaN hardtanh bound is an error (it was read as no bound; torch and np.clip give NaN)."""
    out = np.full(4, SENTINEL)
    with pytest.raises(ValueError, match="alpha must be positive|must not be NaN"):
        call_bad(out)
    assert np.all(out == SENTINEL)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_celu_where_x_over_alpha_is_tiny_or_alpha_infinite(dtype, isa):
    """celu(x) = alpha expm1(x/alpha) -> x where |x/alpha| is tiny: a subnormal x/alpha lost
    its bits (float32 alpha = 1000, x = -9.26e-38: 86 ULP) and alpha = inf gave NaN (inf * -0)."""
    tiny = np.finfo(dtype).tiny
    x = np.array([-9.26e-38 if dtype == np.float32 else -1.27e-292, -2.4e-32, -0.0, 0.0, -tiny, -3.0],
                 dtype)
    for alpha in (1000.0, 1e20):
        y = fa.celu(x, alpha=alpha)
        want = np.array([alpha * float(np.expm1(np.float64(v) / alpha)) if v != 0 else v for v in x], dtype)
        assert_same_bits(y[:-1], x[:-1], f"celu(x, {alpha}) = x where |x/alpha| is tiny")
        np.testing.assert_allclose(y[-1], want[-1], rtol=4 * np.finfo(dtype).eps)
    y = fa.celu(x, alpha=np.inf)
    assert_same_bits(y, x, "celu(x, alpha=inf) = x (the limit)")


@pytest.mark.parametrize("beta", [1e-3, 1e-50, 1e-200, -1e-50])
def test_softplus_of_a_tiny_beta_past_the_exp_range(beta, isa):
    """softplus(x; beta) = log1p(e^(beta x))/beta where beta x < -750: e^(beta x)/beta is not
    0 for a tiny beta, and it is 0 at x = -inf (the clamped exponential over beta gave
    8.6e-281 for every such float64 x with beta = 1e-50, 9.9e-5 for float32 with 1e-300)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    bx = -np.exp(np.linspace(np.log(700.0), np.log(2000.0), 120))
    x = np.concatenate([bx / beta, [-np.inf if beta > 0 else np.inf, -1e308 if beta > 0 else 1e308]])
    y = fa.softplus(x, beta=beta)
    for xi, yi in zip(x, y):
        z = mp.mpf(beta) * mp.mpf(xi) if np.isfinite(xi) else mp.mpf("-1e400")
        ref = float(mp.log1p(mp.exp(z)) / mp.mpf(beta) + (0 if beta > 0 else min(xi, 0.0)))
        err = abs(yi - ref) / np.spacing(max(abs(ref), np.finfo(np.float64).tiny))
        assert err <= 2, f"softplus({xi!r}, beta={beta}) on {isa}: {yi!r}, exact {ref!r}"
    y32 = fa.softplus(np.float32([-np.inf, -3e38]), beta=abs(beta))
    assert y32[0] == 0, f"float32 softplus(-inf, beta={abs(beta)}) on {isa}: {y32[0]!r}"
    if abs(beta) * 3e38 > 800:          # beta x past the exp range: below float32's subnormals
        assert y32[1] == 0, f"float32 softplus(-3e38, beta={abs(beta)}) on {isa}: {y32[1]!r}"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_leaky_relu_huge_slope_overflows_with_the_right_sign(dtype, isa):
    """A slope >= ~1e20 on a large negative x: slope x overflows to -inf (the FMA variants'
    x hi + x lo gave +inf where x lo of the opposite sign overflowed first)."""
    big = np.finfo(dtype).max
    x = np.array([-1.2e29 if dtype == np.float32 else -1.2e290, -big, -1.0, 2.0], dtype)
    for slope in (1e30, -1e30, 3.3e20):
        y = fa.leaky_relu(x, slope)
        want = np.array([slope * float(v) if v < 0 else float(v) for v in x])
        with np.errstate(over="ignore"):
            want = want.astype(dtype)
        assert_same_bits(np.sign(y), np.sign(want), f"leaky_relu slope={slope} signs on {isa}")
        assert np.array_equal(np.isinf(y), np.isinf(want)), (slope, y, want)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_elu_family_with_an_infinite_alpha(dtype, isa):
    """alpha = inf: elu(+-0) = +-0 (the limit; float64 gave inf * -0 = NaN) and elu'(x <= 0)
    = inf (float32 gave NaN from alpha split as inf + (inf - inf)), as torch."""
    x = np.array([-0.0, 0.0, -1.0, 2.0], dtype)
    for f in (fa.elu, fa.celu):
        assert_same_bits(f(x[:2], np.inf), x[:2], f"{f.__name__}(+-0, alpha=inf) on {isa}")
    assert_same_bits(fa.elu(x, np.inf)[2:], np.array([-np.inf, 2.0], dtype), f"elu(x, alpha=inf) on {isa}")
    assert_same_bits(fa.elu_grad(x, None, np.inf), np.array([np.inf, np.inf, np.inf, 1.0], dtype),
                     f"elu_grad(x, alpha=inf) on {isa}")


def test_hardtanh_min_greater_than_max():
    out = np.full(4, SENTINEL)
    with pytest.raises(ValueError):
        fa.hardtanh(np.zeros(4), min_val=2.0, max_val=1.0, out=out)
    assert np.all(out == SENTINEL)
    assert_same_bits(fa.hardtanh(np.array([-3.0, 0.25, 3.0]), 0.5, 0.5), np.array([0.5, 0.5, 0.5]), "lo == hi")


# ---------------------------------------------------------------------------------------
# dtype rules (docs/SPEC.md section 2)

def _all_float16():
    x = np.arange(2 ** 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    return x[~np.isnan(x)]


@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_float16_is_computed_in_float32(entry):
    """Every float16 value: float16 out, equal to the float32 kernel's result rounded."""
    x = np.concatenate([_all_float16(), np.array([np.nan], np.float16)])
    with np.errstate(all="raise", under="ignore"):
        got = call(entry, x)
    with np.errstate(over="ignore"):
        expected = call(entry, x.astype(np.float32)).astype(np.float16)
    assert_same_bits(got, expected, f"{entry.kernel} float16")
    out = np.empty_like(x)
    with np.errstate(all="raise", under="ignore"):
        assert call(entry, x, out=out) is out
    assert_same_bits(out, expected, f"{entry.kernel} float16 out")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_float16_accuracy(case):
    """Against mpmath directly: float32 evaluation rounded to float16 is within 1 float16 ULP,
    over the float16 binade sweep."""
    entry, params = case
    x, hi, lo = reference(entry.kernel, params, "float16")
    err = ulp.ulp_errors(call(entry, x, params), hi, lo, np.float16)
    i = int(np.argmax(err))
    assert err[i] <= (0 if entry.ulp == 0 else 1), f"{err[i]:.3g} ULP at x={x[i]!r}"


INTEGER_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


@pytest.mark.parametrize("idtype", INTEGER_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_integers_and_bool_become_float64(entry, idtype):
    info = np.iinfo(idtype) if idtype is not np.bool_ else None
    values = [0, 1] if info is None else sorted({0, 1, 2, 3, 7, info.max, info.min, info.max // 3, 255 % (info.max + 1)})
    x = np.array(values, dtype=np.uint64 if idtype is np.uint64 else np.int64).astype(idtype)
    got = call(entry, x)
    assert got.dtype == F64
    assert_same_bits(got, call(entry, x.astype(np.float64)), f"{np.dtype(idtype).name} -> float64")


def test_integer_values_are_converted_before_arithmetic():
    """Values written out by hand: a wrap-around or a float16 detour would change them."""
    assert_same_bits(fa.relu(np.array([255, 0], np.uint8)), np.array([255.0, 0.0]), "relu uint8")
    assert_same_bits(fa.softsign(np.array([255], np.uint8)), np.array([255 / 256]), "softsign uint8")
    assert_same_bits(fa.leaky_relu(np.array([-128, 127], np.int8)), np.array([-128 * 0.01, 127.0]), "int8")
    assert_same_bits(fa.hardtanh(np.array([-32768, 5], np.int16), -40000.0, 3.0),
                     np.array([-32768.0, 3.0]), "hardtanh int16")
    assert_same_bits(fa.relu(np.array([2 ** 64 - 1], np.uint64)), np.array([2.0 ** 64]), "uint64")
    assert_same_bits(fa.relu(np.array([True, False])), np.array([1.0, 0.0]), "bool")
    assert fa.hardsigmoid(np.uint8(3)) == 1.0 and type(fa.hardsigmoid(np.uint8(3))) is np.float64


@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_longdouble_is_computed_in_float64(entry):
    x = inputs(entry.kernel, np.float64, 64)
    got = call(entry, x.astype(np.longdouble))
    assert got.dtype == np.longdouble                 # returned as longdouble, as SciPy and np.exp do
    assert_same_bits(got.astype(F64), call(entry, x), "longdouble")


UNSUPPORTED = {
    "complex64": np.array([1 + 1j], np.complex64),
    "complex128": np.array([1 + 1j]),
    "object": np.array([1.0], dtype=object),
    "str": np.array(["1.0"]),
    "bytes": np.array([b"1.0"]),
    "datetime64": np.array(["2026-01-01"], dtype="datetime64[D]"),
    "timedelta64": np.array([1], dtype="timedelta64[s]"),
}


@pytest.mark.parametrize("kind", UNSUPPORTED)
@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_unsupported_dtypes_raise_naming_the_dtype(entry, kind):
    x = UNSUPPORTED[kind]
    with pytest.raises(TypeError) as info:
        call(entry, x)
    msg = str(info.value)
    assert str(x.dtype) in msg or repr(x.dtype) in msg or x.dtype.str in msg, msg


@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_array_likes_and_scalars(entry):
    values = [0.25, -1.5, 0.0, 3.0]
    expected = call(entry, np.array(values))
    assert_same_bits(call(entry, values), expected, "list")
    assert_same_bits(call(entry, tuple(values)), expected, "tuple")
    assert_same_bits(call(entry, [values, values]), np.stack([expected, expected]), "nested list")
    for value, kind in [(0.25, np.float64), (3, np.float64), (np.float32(0.25), np.float32),
                        (np.float16(-1.5), np.float16), (np.array(-1.5), np.float64)]:
        got = call(entry, value)
        assert type(got) is kind, f"{value!r} gives {type(got)}"
        assert_same_bits(np.array(got), call(entry, np.array([value], dtype=kind))[0], f"scalar {value!r}")
    assert type(call(entry, True)) is np.float64


# ---------------------------------------------------------------------------------------
# special values: the true limits, written out (docs/SPEC.md section 4), on every variant

def _limits(entry, params):
    """[(input, true result)] for +-inf, +-0 and other points of note: the registry's
    Activation.limits.  A float is the exact value (or its float64 rounding, checked to the
    ULP bound); ANY_ZERO a zero of either sign; a callable of mpmath gives the exact value."""
    return list(entry.limits(*params))


def test_every_entry_has_limits():
    assert {e.kernel for e in ACTIVATIONS} == {e.kernel for e in ACTIVATIONS if e.limits and _limits(e, e.test_params[0])}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_special_values(case, dtype, isa):
    entry, params = case
    table = _limits(entry, params) + [(NAN, NAN)]
    # each point at several positions of a 67-element array: vector body and every tail
    picks = [i % len(table) for i in range(67)]
    x = np.array([table[i][0] for i in picks], dtype=dtype)
    with np.errstate(all="raise", under="ignore"):
        y = call(entry, x, params)
    for i, xi, yi in zip(picks, x, y):
        want = table[i][1]
        what = f"{case_id(case)}({xi!r}) on {isa} = {yi!r}"
        if want is ANY_ZERO:
            assert yi == 0, what
        elif callable(want):
            pytest.importorskip("mpmath")
            hi, lo = ulp.reference(lambda mp, _x: want(mp), [0.0])
            assert ulp.ulp_errors([yi], hi, lo, dtype)[0] <= slack(entry.ulp), f"{what}, exact {hi[0]!r}"
        elif math.isnan(want):
            assert np.isnan(yi), f"{what}, expected NaN"
        elif want == 0 or math.isinf(want):
            assert yi == want and np.signbit(yi) == (math.copysign(1, want) < 0), f"{what}, expected {want!r}"
        else:
            err = ulp.ulp_errors([yi], [want], [0.0], dtype)[0]    # `want` is exact in dtype
            assert err <= slack(entry.ulp), f"{what}, expected {want!r}"


# ---------------------------------------------------------------------------------------
# peers: SciPy's expit / log_expit, torch's definitions

@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kernel", [e.kernel for e in ACTIVATIONS if e.scipy])
def test_matches_scipy(kernel, dtype, isa):
    """fastact and scipy.special agree to within fastact's bound plus SciPy's own measured
    error, and exactly at the special values."""
    special = pytest.importorskip("scipy.special")
    entry = BY_KERNEL[kernel]
    params = entry.test_params[0]
    x, hi, lo = reference(kernel, params, np.dtype(dtype).name)
    with np.errstate(all="ignore"):
        theirs = getattr(special, entry.scipy)(x, *[p for p in params if p is not None])
    assert theirs.dtype == dtype
    scipy_err = ulp.ulp_errors(theirs, hi, lo, dtype).max()
    ours = call(entry, x, params)
    finite = np.isfinite(theirs) & (theirs != 0)     # zeros and infinities: compared exactly below
    err = ulp.ulp_errors(ours[finite], theirs[finite].astype(np.float64), 0 * theirs[finite], dtype)
    assert err.max() <= slack(entry.ulp) + scipy_err, f"{err.max():.3g} ULP from scipy ({scipy_err:.3g})"
    specials = np.array([-INF, INF, NAN, -0.0, 0.0, 1.0, 0.5], dtype)
    with np.errstate(all="ignore"):
        theirs_s = getattr(special, entry.scipy)(specials)
    ours_s = call(entry, specials)
    assert np.array_equal(np.isnan(ours_s), np.isnan(theirs_s)), f"NaN: {ours_s} vs SciPy {theirs_s}"
    inf_or_zero = np.isinf(theirs_s) | (theirs_s == 0)
    assert_same_bits(ours_s[inf_or_zero], theirs_s[inf_or_zero], f"{kernel} at +-inf / zeros vs SciPy")


SOFTPLUS_THRESHOLDS = [(1.0, 2.0), (2.0, 3.0), (1.0, 20.0), (0.5, 1.0)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("beta,threshold", SOFTPLUS_THRESHOLDS)
def test_softplus_threshold_follows_torch_rule(beta, threshold, dtype, isa):
    """torch: softplus(x) = x where beta*x > threshold, log1p(exp(beta*x))/beta elsewhere."""
    pytest.importorskip("mpmath")
    cut = threshold / beta
    x = np.concatenate([np.linspace(cut - 2, cut + 2, 401),
                        [np.nextafter(dtype(cut), dtype(-INF)), dtype(cut), np.nextafter(dtype(cut), dtype(INF))]]
                       ).astype(dtype)
    y = fa.softplus(x, beta=beta, threshold=threshold)
    linear = beta * x.astype(np.float64) > threshold
    assert_same_bits(y[linear], x[linear], "linear part is x itself")
    hi, lo = ulp.reference(BY_KERNEL["softplus"].reference, x[~linear], beta, None)
    err = ulp.ulp_errors(y[~linear], hi, lo, dtype)
    assert err.max() <= slack(BY_KERNEL["softplus"].ulp)
    torch = _torch()
    if torch is not None:
        t = torch.nn.functional.softplus(torch.from_numpy(x), beta=beta, threshold=threshold).numpy()
        np.testing.assert_allclose(y, t, rtol=1e-5 if dtype is np.float32 else 1e-12)


@pytest.mark.parametrize("eps", [1e-6, 0.1, 0.3, 2.0 ** -30, 0.0])
@pytest.mark.parametrize("dtype", DTYPES)
def test_logit_eps_bounds(eps, dtype, isa):
    """Inputs a few floats around eps and 1 - eps (1 - eps is rounded to float64, generally not
    a float32): the clamp and the values at the bounds against the mpmath reference."""
    pytest.importorskip("mpmath")
    entry = BY_KERNEL["logit"]
    pts = []
    for b in (eps, float(1 - eps)):
        c = dtype(b)
        around = [c]
        for _ in range(6):
            around = [np.nextafter(around[0], dtype(-INF))] + around + [np.nextafter(around[-1], dtype(INF))]
        pts += around
    x = np.array([p for p in pts if 0 <= p <= 1] + [0.0, 1.0, 0.5], dtype=dtype)
    hi, lo = ulp.reference(entry.reference, x, eps)
    err = ulp.ulp_errors(fa.logit(x, eps=eps), hi, lo, dtype)
    assert err.max() <= slack(entry.ulp), f"{err.max()} ULP at {x[err.argmax()]!r}"


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _torch_fn(torch, entry):
    return getattr(torch.nn.functional, entry.torch, None) or getattr(torch, entry.torch)


@pytest.mark.parametrize("case", [c for c in CASES if c[0].torch], ids=case_id)
def test_matches_torch_float64(case):
    """torch's definitions (constants of selu, hardsigmoid, hardswish, gelu 'tanh', parameter
    names and meanings): float64, on a range where torch's own formulas are well conditioned
    (|relative error| ~1e-14), so 1e-12 catches any different constant."""
    torch = _torch()
    if torch is None:
        pytest.skip("torch is not installed: only this comparison is skipped")
    entry, params = case
    lo, hi = (1e-3, 1 - 1e-3) if entry.kernel == "logit" else (-3.0, 6.0)
    x = np.concatenate([np.linspace(lo, hi, 1201), np.linspace(lo, hi, 97) + 1e-3]).clip(lo, hi)
    kwargs = {p.name: v for p, v in zip(entry.params, params)}
    if entry.kernel == "softplus" and kwargs["threshold"] is None:
        kwargs["threshold"] = INF
    if entry.kernel == "logit":
        kwargs = {"eps": kwargs["eps"]}
    if entry.select:
        kwargs[entry.select[0]] = entry.select[1]
    theirs = _torch_fn(torch, entry)(torch.from_numpy(x), **kwargs).numpy()
    ours = call(entry, x, params)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-300, err_msg=case_id(case))


@pytest.mark.parametrize("case", [c for c in CASES if c[0].jax], ids=case_id)
def test_matches_jax_float64(case):
    """The registry's JAX peers (benchmarks/bench_gradients.py times their gradients) name the
    same functions: float64 over [-8, 8] (relu and relu6 differ there; elu and celu with
    alpha != 1), every parameter set JAX's function takes; a set it cannot take is refused,
    not dropped."""
    jax = pytest.importorskip("jax", reason="jax is not installed: only this comparison is skipped")
    from fastact._registry import jax_peer
    jax.config.update("jax_enable_x64", True)
    entry, params = case
    # gelu's two forms in JAX are 0.5 x (1 + erf / tanh): they cancel below -3
    lo, hi = {"logit": (1e-3, 1 - 1e-3), "gelu": (-3.0, 8.0), "gelu_tanh": (-3.0, 8.0)}.get(entry.kernel, (-8.0, 8.0))
    x = np.linspace(lo, hi, 1601)
    try:
        f = jax_peer(entry, jax, params)
    except ValueError as e:
        assert params != entry.test_params[0] and "has no" in str(e)
        return
    theirs = np.asarray(f(jax.numpy.asarray(x)))
    assert theirs.dtype == np.float64
    # atol: JAX's logit(0.5) is 1.1e-16 (log p - log1p(-p)), fastact's 0
    np.testing.assert_allclose(call(entry, x, params), theirs, rtol=1e-12, atol=1e-15, err_msg=case_id(case))
