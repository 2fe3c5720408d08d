"""Issue 11 (hardening) and issue 8 item 4 (SciPy drop-in details): each case failed before.

- the README's first command typed in the checkout (an unbuilt source folder on sys.path);
- complex logsumexp and longdouble input, checked against scipy.special itself;
- a float64 result into a narrower `out` that overflows: inf, silently;
- leaky_relu / softplus at infinite parameters: the limits;
- np.matrix as `out`;
- set_num_threads(256) then 1 releases the workers;
- NumPy's argument rules, checked against NumPy's own exceptions and messages;
- threadpoolctl sees fastact's pool, whichever of the two is imported first;
- FASTACT_ISA=bogus is echoed and warned about.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pytest
import scipy.special as sc

import fastact as fa
from fastact._registry import ACTIVATIONS
from clean_cwd import CLEAN_CWD

PACKAGE = os.path.dirname(os.path.abspath(fa.__file__))
BUILT_ROOT = os.path.dirname(PACKAGE)       # the folder that holds the built (or installed) fastact
F32, F64 = np.float32, np.float64
DTYPES = [F32, F64]


def run_python(args, cwd, pythonpath=None, env_extra=None, timeout=300):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("FASTACT_ISA", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    env.update(env_extra or {})
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def source_checkout():
    """A checkout as `git clone` leaves it: fastact/ with its Python files and no compiled module."""
    root = tempfile.mkdtemp(prefix="fastact-checkout-")
    os.mkdir(os.path.join(root, "fastact"))
    for name in os.listdir(PACKAGE):
        if name.endswith(".py"):
            shutil.copy(os.path.join(PACKAGE, name), os.path.join(root, "fastact", name))
    yield root
    shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------ README's first command, in a checkout

def test_python_m_fastact_in_the_checkout_runs_the_installed_package(source_checkout):
    # `python -m fastact` typed in the checkout: the cwd (the unbuilt source folder) comes first on
    # sys.path, the built package after it (as site-packages would be)
    done = run_python(["-W", "error", "-m", "fastact"], cwd=source_checkout, pythonpath=BUILT_ROOT)
    assert done.returncode == 0, done.stderr
    assert "circular import" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("fastact ")
    assert any(line.split()[:2] == ["function", "dtype"] for line in lines)   # the self-check table
    assert any(line.split()[:2] == ["sigmoid", "float32"] for line in lines)


def test_import_in_the_checkout_hands_over_to_the_built_package(source_checkout):
    code = "import fastact; print(fastact.__file__); print(fastact.sigmoid(0.0))"
    done = run_python(["-c", code], cwd=source_checkout, pythonpath=BUILT_ROOT)
    assert done.returncode == 0, done.stderr
    where, value = done.stdout.split()
    assert os.path.dirname(where) == PACKAGE and float(value) == 0.5


def test_unbuilt_checkout_alone_says_how_to_build(source_checkout):
    # `python -m pytest` in a checkout with nothing built or installed: NumPy's kind of message
    # -S: no site-packages, so an installed fastact (as in .ci/run's virtual environment) is not found
    done = run_python(["-S", "-c", "import fastact"], cwd=source_checkout)
    assert done.returncode != 0
    assert "partially initialized module" not in done.stderr
    assert "ImportError: fastact is being imported from its source tree" in done.stderr
    assert "python setup.py build_ext --inplace" in done.stderr
    assert "pip install" in done.stderr


# ------------------------------------------------------------ complex logsumexp (SciPy's results)

COMPLEX_CASES = [
    np.array([1 + 1j, -2]),
    np.array([[1 + 1j, -2, 0.5 - 3j], [3j, 0, -1 - 1j]]),
    np.array([[[0.1 + 2j, 4 - 1j], [-3 + 0.5j, 2 + 2j]], [[1j, -1j], [5, -5 + 1j]]]),
]


@pytest.mark.parametrize("ctype", [np.complex64, np.complex128])
@pytest.mark.parametrize("case", range(len(COMPLEX_CASES)))
@pytest.mark.parametrize("return_sign", [False, True])
@pytest.mark.parametrize("keepdims", [False, True])
def test_complex_logsumexp_matches_scipy(ctype, case, return_sign, keepdims):
    a = COMPLEX_CASES[case].astype(ctype)
    rtol = 2e-6 if ctype is np.complex64 else 1e-13
    for axis in [None] + list(range(a.ndim)) + ([(0, -1)] if a.ndim > 1 else []):
        got = fa.logsumexp(a, axis=axis, return_sign=return_sign, keepdims=keepdims)
        want = sc.logsumexp(a, axis=axis, return_sign=return_sign, keepdims=keepdims)
        got, want = (got, want) if return_sign else ((got,), (want,))
        for g, w in zip(got, want):
            assert type(g) is type(w), (axis, type(g), type(w))         # NumPy scalar vs 0-d array
            assert np.asarray(g).dtype == np.asarray(w).dtype, (axis, g, w)
            assert np.shape(g) == np.shape(w)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("ctype", [np.complex64, np.complex128])
def test_complex_logsumexp_sign_times_exp_is_the_sum(ctype):
    a = np.array([1 + 1j, -2], dtype=ctype)
    l, s = fa.logsumexp(a, return_sign=True)
    real = np.float32 if ctype is np.complex64 else np.float64
    assert type(l) is real and type(s) is ctype                       # NumPy scalars, l real
    assert l == pytest.approx(1.0273761243841657, rel=1e-6)
    assert s == pytest.approx(0.574154131929631 + 0.8187472337590715j, rel=1e-6)
    np.testing.assert_allclose(s * np.exp(l), np.exp(a.astype(np.complex128)).sum(), rtol=1e-6)
    # along an axis: each slice the same way
    a2 = np.array([[1 + 1j, -2], [3j, 0.25]], dtype=ctype)
    l2, s2 = fa.logsumexp(a2, axis=1, return_sign=True)
    assert l2.dtype == real and s2.dtype == ctype
    np.testing.assert_allclose(s2 * np.exp(l2), np.exp(a2.astype(np.complex128)).sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(np.abs(s2), 1, rtol=1e-6)


def test_complex_logsumexp_with_weights_and_out():
    a = np.array([[1 + 1j, -2, 0.5j], [2, -1j, 1]])
    b = np.array([0.5, 2.0, -1.0])
    l, s = fa.logsumexp(a, axis=1, b=b, return_sign=True)
    wl, ws = sc.logsumexp(a, axis=1, b=b, return_sign=True)
    np.testing.assert_allclose(l, wl, rtol=1e-13)
    np.testing.assert_allclose(s, ws, rtol=1e-13)
    out = np.empty(2, np.complex128)
    assert fa.logsumexp(a, axis=1, b=b, out=out) is out
    np.testing.assert_allclose(out, sc.logsumexp(a, axis=1, b=b), rtol=1e-13)


# ------------------------------------------------------------ longdouble in, longdouble out

LD = np.longdouble


@pytest.mark.parametrize("name", ["expit", "log_expit", "logit"])
def test_longdouble_elementwise_like_scipy(isa, name):
    x = np.array([0.01, 0.3, 0.5, 0.7, 0.99], dtype=LD) if name == "logit" else \
        np.linspace(-30, 30, 37).astype(LD)
    got, want = getattr(fa, name)(x), getattr(sc, name)(x)
    assert got.dtype == want.dtype == LD
    np.testing.assert_allclose(got.astype(F64), want.astype(F64), rtol=1e-15, atol=1e-300)
    assert type(getattr(fa, name)(LD(0.25))) is type(getattr(sc, name)(LD(0.25))) is LD


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_longdouble_reductions_like_scipy(isa, name):
    x = np.array([[0.3, 1.0, -4.0], [2.0, 2.5, 0.0]], dtype=LD)
    for axis in (None, 0, 1):
        got, want = getattr(fa, name)(x, axis=axis), getattr(sc, name)(x, axis=axis)
        assert type(got) is type(want)
        assert np.asarray(got).dtype == np.asarray(want).dtype == LD
        np.testing.assert_allclose(np.asarray(got, F64), np.asarray(want, F64), rtol=1e-15)
    l, s = fa.logsumexp(x, axis=1, b=[1.0, -1.0, 2.0], return_sign=True)
    wl, ws = sc.logsumexp(x, axis=1, b=[1.0, -1.0, 2.0], return_sign=True)
    assert l.dtype == wl.dtype == LD and s.dtype == ws.dtype == LD


# ------------------------------------------------------------ narrower out: inf, no warning

@pytest.mark.parametrize("narrow", [np.float32, np.float16])
def test_overflow_into_a_narrower_out_is_silent(isa, narrow):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = np.zeros((), narrow)
        assert fa.logsumexp([1e300], out=out) is out and out == np.inf
        out = np.zeros((), narrow)
        fa.logsumexp(np.array([[1e300, 0.0]]), axis=1, out=out.reshape(1))
        out = np.zeros((1,), narrow)
        fa.logsumexp(np.array([[1e300, 0.0]]), axis=1, out=out)
        assert out[0] == np.inf
        out = np.zeros((1,), narrow)
        fa.logsumexp(np.array([[1e300, 0.0]]), axis=1, return_sign=True, out=out)
        assert out[0] == np.inf
        out = np.zeros(2, narrow)
        assert fa.log_softmax([0.0, -1e300], out=out) is out
        assert out[0] == 0 and out[1] == -np.inf
        out = np.zeros((2, 2), narrow)
        fa.log_softmax(np.array([[0.0, -1e300], [1.0, 2.0]]), axis=1, where=[True, True], out=out)
        assert out[0, 1] == -np.inf
        out = np.zeros(2, narrow)
        fa.sigmoid(np.array([1e300, -1.0]), out=out)       # element-wise already did this
        out = np.zeros(2, narrow)
        fa.relu(np.array([1e300, -1.0]), out=out)
        assert out[0] == np.inf


def test_float16_result_overflow_is_silent():
    x = np.full(4, 65504.0, np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fa.logsumexp(x)                              # 65504 + log(4) rounds to inf in float16
    assert got.dtype == np.float16 and got == np.float16(65504.0 + np.log(4.0))


# ------------------------------------------------------------ infinite parameters: the limits

@pytest.mark.parametrize("dtype", DTYPES)
def test_leaky_relu_infinite_slope(isa, dtype):
    x = np.array([-3.0, -1e-30, -0.0, 0.0, 2.0, np.inf, -np.inf, np.nan] * 5, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for slope in (np.inf, -np.inf):
            got = fa.leaky_relu(x, negative_slope=slope)
            with np.errstate(invalid="ignore"):          # slope * 0 is the limit +-0, not NaN
                want = np.where(x > 0, x, np.where(x == 0, x * np.sign(slope), slope * x)).astype(dtype)
            np.testing.assert_array_equal(got, want)
            assert np.array_equal(np.signbit(got), np.signbit(want)), (got, want)
        assert fa.leaky_relu(dtype(-3.0), negative_slope=np.inf) == -np.inf
        if dtype is F32:    # a finite slope beyond float32's range is infinite there
            assert fa.leaky_relu(np.full(9, -3.0, F32), negative_slope=1e300)[0] == -np.inf


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_infinite_beta(isa, dtype):
    x = np.array([-3.0, -0.5, 0.0, 0.5, 3.0, np.inf, -np.inf, np.nan] * 5, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(fa.softplus(x, beta=np.inf), np.maximum(x, 0))
        np.testing.assert_array_equal(fa.softplus(x, beta=-np.inf), np.minimum(x, 0))
        np.testing.assert_array_equal(fa.softplus(x, beta=np.inf, threshold=20.0), np.maximum(x, 0))
        assert fa.softplus(dtype(0.0), beta=np.inf) == 0


# ------------------------------------------------------------ np.matrix as out

@pytest.fixture
def matrix():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        yield np.matrix


def test_matrix_out_like_np_exp(matrix):
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    ref = matrix(np.zeros((2, 2)))
    assert np.exp(x, out=ref) is ref                  # what NumPy does: writes, returns the matrix
    for out_dtype in (F64, F32):
        for f, want in ((fa.sigmoid, sc.expit(x)), (fa.gelu, None)):
            out = matrix(np.zeros((2, 2), out_dtype))
            assert f(x, out=out) is out
            if want is not None:
                np.testing.assert_allclose(np.asarray(out), want, rtol=1e-6)
        fx = np.asfortranarray(x)
        out = matrix(np.zeros((2, 2), out_dtype))
        assert fa.tanh(fx, out=out) is out
        np.testing.assert_allclose(np.asarray(out), np.tanh(x), rtol=1e-6)
        for name in ("softmax", "log_softmax"):
            for axis in (0, 1, None):
                out = matrix(np.zeros((2, 2), out_dtype))
                assert getattr(fa, name)(x, axis=axis, out=out) is out
                np.testing.assert_allclose(np.asarray(out), getattr(sc, name)(x, axis=axis), rtol=1e-6)
        out = matrix(np.zeros((1, 2), out_dtype))
        assert fa.logsumexp(x, axis=0, keepdims=True, out=out) is out
        np.testing.assert_allclose(np.asarray(out), sc.logsumexp(x, axis=0, keepdims=True), rtol=1e-6)


# ------------------------------------------------------------ threads released

def _tasks():
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_lowering_the_thread_count_releases_the_workers():
    before = fa.get_num_threads()
    try:
        fa.set_num_threads(1)
        idle = _tasks()
        fa.set_num_threads(64)
        x = np.linspace(-5, 5, 1 << 21)
        want = fa.sigmoid(x)
        assert _tasks() >= idle + 32                      # the workers were created
        fa.set_num_threads(1)
        deadline = time.monotonic() + 10
        while _tasks() > idle and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _tasks() == idle
        fa.set_num_threads(2)                             # a slot given up and refilled works again
        np.testing.assert_array_equal(fa.sigmoid(x), want)
        rows = x.reshape(64, -1)
        fa.set_num_threads(1)
        want_rows = fa.softmax(rows, axis=1)
        fa.set_num_threads(8)
        np.testing.assert_array_equal(fa.softmax(rows, axis=1), want_rows)
        fa.set_num_threads(1)
        np.testing.assert_array_equal(fa.sigmoid(x), want)
    finally:
        fa.set_num_threads(before)


# ------------------------------------------------------------ NumPy's argument rules

def _numpy_error(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


def _assert_same_error(fa_call, np_call):
    want_type, want_message = _numpy_error(np_call)
    with pytest.raises(want_type) as info:
        fa_call()
    assert str(info.value) == want_message


@pytest.mark.parametrize("axis", [True, False, np.True_, (True,), (0, False), 1.0, [0], "0"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_axis_rules_as_numpy(name, axis):
    x = np.arange(6.0).reshape(2, 3)
    out = np.full((2, 3), 7.0) if name != "logsumexp" else None
    _assert_same_error(lambda: getattr(fa, name)(x, axis=axis, **({"out": out} if out is not None else {})),
                       lambda: np.sum(x, axis=axis))
    if out is not None:
        assert (out == 7.0).all()                        # nothing written


@pytest.mark.parametrize("axis", [True, np.False_, 1.0, "1", [1]])
@pytest.mark.parametrize("name", ["cross_entropy", "cross_entropy_grad", "nll_loss", "one_hot"])
def test_class_axis_rules_as_numpy(name, axis):
    """The losses' class axis and one_hot's new axis take one integer with np.sum's errors (a
    bool is not 1: TypeError "an integer is required"), on the fast path and the general path."""
    x = np.arange(6.0).reshape(2, 3)
    t = np.zeros(2, np.int64)
    call = (lambda a: fa.one_hot(t, 3, axis=axis)) if name == "one_hot" else \
        (lambda a: getattr(fa, name)(a, t, axis=axis))
    for a in (x, x[:, ::-1]):
        _assert_same_error(lambda: call(a), lambda: np.sum(x, axis=axis))


@pytest.mark.parametrize("axis", [2 ** 31, -2 ** 31 - 3, 2 ** 40, -2 ** 63, 2 ** 63, (2 ** 31,), (0, 2 ** 63)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "softmax_grad", "logsumexp_grad",
                                  "cross_entropy", "one_hot"])
def test_axis_beyond_a_c_int_as_numpy(name, axis):
    """An axis beyond a C int: np.sum's ValueError "integer won't fit into a C int" (beyond a C
    long its OverflowError), on the fast path and the general path alike (NumPy's
    normalize_axis_index raises OverflowError for both); the losses take an int only."""
    x = np.arange(6.0).reshape(2, 3)
    calls = {"softmax": lambda a: fa.softmax(a, axis=axis), "log_softmax": lambda a: fa.log_softmax(a, axis=axis),
             "logsumexp": lambda a: fa.logsumexp(a, axis=axis),
             "softmax_grad": lambda a: fa.softmax_grad(a, a, axis=axis),
             "logsumexp_grad": lambda a: fa.logsumexp_grad(a, axis=axis),
             "cross_entropy": lambda a: fa.cross_entropy(a, np.zeros(2, np.int64), axis=axis),
             "one_hot": lambda a: fa.one_hot(np.zeros(2, np.int64), 3, axis=axis)}
    if name in ("cross_entropy", "one_hot") and type(axis) is tuple:
        with pytest.raises(TypeError):
            calls[name](x)
        return
    for a in (x, x[:, ::-1]):                            # the fast path, the general path
        _assert_same_error(lambda: calls[name](a), lambda: np.sum(x, axis=axis))


@pytest.mark.parametrize("where", [np.array([1, 0, 1]), np.array([1.0, 0.0, 1.0]), np.array([1, 0, 1], np.uint8),
                                   np.array(1), np.array([True, False, True], dtype=object)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_non_boolean_where_arrays_as_numpy(name, where):
    x = np.array([1.0, 2.0, 3.0])
    out = np.full(3, 7.0) if name != "logsumexp" else np.full((), 7.0)
    _assert_same_error(lambda: getattr(fa, name)(x, where=where, out=out),
                       lambda: np.exp(x, where=where, out=np.empty(3)))
    assert (out == 7.0).all()


@pytest.mark.parametrize("where", [[1, 0, 1], [1.0, 0.0, 1.0], True, 1, np.True_, [True, False, True]])
def test_where_values_numpy_accepts(where):
    x = np.array([1.0, 2.0, 3.0])
    np.exp(x, where=where, out=np.empty(3))             # NumPy takes these (truth values)
    mask = np.broadcast_to(np.asarray(where, dtype=bool), x.shape)
    np.testing.assert_allclose(fa.softmax(x, where=where), sc.softmax(np.where(mask, x, -np.inf)))


@pytest.mark.parametrize("value", ["yes", "", None, 1.0, [1], np.float64(1.0)])
@pytest.mark.parametrize("param", ["keepdims", "return_sign"])
def test_flags_as_numpy_keepdims(param, value):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = np.full(2, 7.0)
    _assert_same_error(lambda: fa.logsumexp(x, axis=1, out=out, **{param: value}),
                       lambda: np.sum(x, axis=1, keepdims=value))
    assert (out == 7.0).all()


@pytest.mark.parametrize("value", [True, 1, 0, False, np.int64(1), np.True_])
def test_flags_numpy_accepts(value):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = fa.logsumexp(x, axis=1, keepdims=value)
    assert np.shape(got) == ((2, 1) if value else (2,))
    got = fa.logsumexp(x, axis=1, return_sign=value)
    assert isinstance(got, tuple) == bool(value)


@pytest.mark.parametrize("n", [True, False, np.True_, 2.0, "2", None])
def test_set_num_threads_takes_integers_only(n):
    before = fa.get_num_threads()
    with pytest.raises(TypeError):
        fa.set_num_threads(n)
    assert fa.get_num_threads() == before
    assert fa.set_num_threads(np.int64(before)) == before    # NumPy integers are integers


def _numeric_params():
    seen = set()
    for entry in ACTIVATIONS:
        for p in entry.params:
            if (entry.name, p.name) not in seen:
                seen.add((entry.name, p.name))
                yield entry.name, p.name


@pytest.mark.parametrize("func,param", list(_numeric_params()))
@pytest.mark.parametrize("value", ["0.1", b"1", 1 + 0j, [0.1], np.array([0.1, 0.2])])
def test_string_and_non_real_parameters_are_type_errors(func, param, value):
    x = np.array([-1.0, 0.5, 2.0])
    out = np.full(3, 7.0)
    # NumPy refuses a string operand in arithmetic (UFuncTypeError, a TypeError)
    with pytest.raises(TypeError):
        np.multiply(x, "0.1")
    with pytest.raises(TypeError, match=f"'{param}' must be a real number"):
        getattr(fa, func)(x, out=out, **{param: value})
    assert (out == 7.0).all()


@pytest.mark.parametrize("func,param", list(_numeric_params()))
def test_numeric_parameter_types_accepted(func, param):
    x = np.array([-1.0, 0.25, 2.0])
    default = dict((p.name, p.default) for e in ACTIVATIONS if e.name == func for p in e.params)[param]
    value = 0.25 if default is None else default
    if func == "hardtanh":
        value = {"min_val": -1, "max_val": 1}[param]
    want = getattr(fa, func)(x, **{param: float(value)})
    for same in (np.float64(value), np.float32(value) if float(np.float32(value)) == value else float(value),
                 np.array(float(value))) + ((int(value),) if float(value).is_integer() else ()):
        np.testing.assert_array_equal(getattr(fa, func)(x, **{param: same}), want)


# ------------------------------------------------------------ threadpoolctl

TP_PROBE = """
import sys
order = sys.argv[1]
if order == "threadpoolctl-first":
    import threadpoolctl
    import fastact as fa
else:
    import fastact as fa
    assert "threadpoolctl" not in sys.modules     # import fastact does not import it
    import threadpoolctl
found = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "fastact"]
assert len(found) == 1, threadpoolctl.threadpool_info()
assert found[0]["internal_api"] == "fastact" and found[0]["version"] == fa.__version__
fa.set_num_threads(3)
assert found[0]["num_threads"] == 3 or threadpoolctl.threadpool_info()
with threadpoolctl.threadpool_limits(1):
    assert fa.get_num_threads() == 1
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "fastact"][0]
    assert info["num_threads"] == 1
assert fa.get_num_threads() == 3
with threadpoolctl.threadpool_limits(limits=2, user_api="fastact"):
    assert fa.get_num_threads() == 2
assert fa.get_num_threads() == 3
print("ok")
"""


@pytest.mark.parametrize("order", ["threadpoolctl-first", "fastact-first"])
def test_threadpoolctl_controls_fastact(order):
    pytest.importorskip("threadpoolctl")
    done = run_python(["-W", "error", "-c", TP_PROBE, order], cwd=CLEAN_CWD,
                      pythonpath=BUILT_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# ------------------------------------------------------------ FASTACT_ISA echoed

@pytest.mark.parametrize("value", ["bogus", "AVX9000", "scalar "])
def test_bad_fastact_isa_is_echoed_and_warned(value):
    code = "import json, fastact as fa; print(json.dumps(fa.simd_info()))"
    done = run_python(["-c", code], cwd=CLEAN_CWD, pythonpath=BUILT_ROOT,
                      env_extra={"FASTACT_ISA": value})
    assert done.returncode == 0, done.stderr
    import json
    info = json.loads(done.stdout)
    assert info["requested"] == value and info["current"] == info["best"]
    assert f"UserWarning: FASTACT_ISA={value!r} is not a kernel variant" in done.stderr
    good = run_python(["-c", code], cwd=CLEAN_CWD, pythonpath=BUILT_ROOT,
                      env_extra={"FASTACT_ISA": "scalar"})
    assert good.stderr == "" and json.loads(good.stdout)["requested"] == "scalar"


# ------------------------------------------------------------ found by tests/test_fuzz.py

@pytest.mark.parametrize("dtype", [np.float16, F32, F64, np.int32])
def test_permuted_axis_order_elementwise(dtype):
    # x.transpose(0, 2, 1) of a C array is neither C- nor F-contiguous: the copy kept that
    # order and the flat kernels got nothing (TypeError "Value after * must be an iterable")
    x = np.arange(-12, 12).reshape(2, 3, 4).astype(dtype).transpose(0, 2, 1)
    want = np.maximum(x, 0).astype(np.float64 if np.dtype(dtype).kind == "i" else dtype)
    np.testing.assert_array_equal(fa.relu(x), want)
    out = np.empty((2, 3, 4), want.dtype).transpose(0, 2, 1)
    assert fa.relu(x, out=out) is out
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unaligned_buffers_are_copied_before_the_kernels(dtype):
    # the C kernels read float*/double*: an unaligned pointer is undefined behaviour (UBSan's
    # "load of misaligned address" in the sanitizer job of .ci/run); results are the aligned ones
    def unaligned(values):
        raw = np.zeros(values.nbytes + 1, np.uint8)
        a = raw[1:].view(dtype).reshape(values.shape)
        a[...] = values
        assert not a.flags.aligned
        return a
    x = np.linspace(-3, 3, 2 * 37).reshape(2, 37).astype(dtype)
    b = np.linspace(0.5, 2, 37).astype(dtype)
    for name in ("softmax", "log_softmax"):
        want = getattr(fa, name)(x, axis=1)
        np.testing.assert_array_equal(getattr(fa, name)(unaligned(x), axis=1), want)
        out = unaligned(np.zeros_like(x))
        assert getattr(fa, name)(x, axis=1, out=out) is out
        np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(fa.logsumexp(unaligned(x), axis=1, b=unaligned(b)),
                                  fa.logsumexp(x, axis=1, b=b))
    out = unaligned(np.zeros_like(x))
    assert fa.sigmoid(x, out=out) is out
    np.testing.assert_array_equal(out, fa.sigmoid(x))
    np.testing.assert_array_equal(fa.sigmoid(unaligned(x)), fa.sigmoid(x))
