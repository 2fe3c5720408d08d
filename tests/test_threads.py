"""Threads: set_num_threads / get_num_threads / FASTACT_NUM_THREADS, and results that do not
depend on the thread count.

Every result computed with 2 and 3 threads is compared bit for bit with the same call on
1 thread (sizes below and above the 65536-element threshold where calls start to split,
odd sizes, special values at the block edges); the 1-thread results themselves are
checked against mpmath by test_elementwise.py / test_reductions.py.
"""
import ctypes
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastact as fa
from fastact import kernels

from activations import CASES, DTYPES, assert_same_bits, call, case_id, inputs
from ulp import log_probability_rows
from clean_cwd import CLEAN_CWD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fa.__file__)))
SPLIT_MIN = 1 << 16      # the sizes below reach past every split threshold of src_c/fa_dispatch.c (2^15 .. 2^17)
THREAD_COUNTS = (2, 3)


@pytest.fixture(autouse=True)
def restore_threads():
    before = fa.get_num_threads()
    yield
    fa.set_num_threads(before)


def on_threads(count, f, *args, **kwargs):
    fa.set_num_threads(count)
    try:
        return f(*args, **kwargs)
    finally:
        fa.set_num_threads(1)


def assert_thread_independent(f, *args, what="", **kwargs):
    """f(*args) with 2 and 3 threads gives the bits of f(*args) with 1 thread."""
    expected = on_threads(1, f, *args, **kwargs)
    for count in THREAD_COUNTS:
        got = on_threads(count, f, *args, **kwargs)
        if isinstance(expected, tuple):
            for g, e in zip(got, expected):
                assert_same_bits(g, e, f"{what} on {count} threads")
        else:
            assert_same_bits(got, expected, f"{what} on {count} threads")
    return expected


# ---------------------------------------------------------------------------------------
# the API

def test_default_is_one_thread_and_set_returns_the_previous_count():
    assert fa.get_num_threads() == 1 or "FASTACT_NUM_THREADS" in os.environ
    fa.set_num_threads(1)
    assert fa.set_num_threads(3) == 1
    assert fa.get_num_threads() == 3
    assert fa.simd_info()["num_threads"] == 3
    assert fa.set_num_threads(np.int64(2)) == 3      # any integer type (operator.index)
    assert fa.get_num_threads() == 2
    assert fa.set_num_threads(kernels.THREADS_MAX) == 2
    assert fa.get_num_threads() == kernels.THREADS_MAX


@pytest.mark.parametrize("value", [0, -1, -(2 ** 70), kernels.THREADS_MAX + 1, 2 ** 70])
def test_out_of_range_count_raises_value_error(value):
    fa.set_num_threads(2)
    with pytest.raises(ValueError, match="number of threads"):
        fa.set_num_threads(value)
    assert fa.get_num_threads() == 2


@pytest.mark.parametrize("value", [1.0, 2.5, "2", None, [2], np.float64(2.0)])
def test_non_integer_count_raises_type_error(value):
    fa.set_num_threads(2)
    with pytest.raises(TypeError):
        fa.set_num_threads(value)
    assert fa.get_num_threads() == 2


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
def test_a_large_call_starts_the_workers():
    code = """
import os, numpy as np, fastact as fa
def os_threads():
    return len(os.listdir("/proc/self/task"))
start = os_threads()
fa.sigmoid(np.ones(1 << 20))                  # one thread: nothing created
fa.set_num_threads(3)
fa.sigmoid(np.ones(1000))                     # too small to split
small = os_threads()
fa.sigmoid(np.ones(1 << 20))
fa.softmax(np.ones((4, 1 << 16)), axis=-1)
print(start, small, os_threads())
"""
    start, small, after = map(int, run_python(code, None).split())
    assert small == start and after == start + 2


def test_show_config_reports_the_thread_count(capsys):
    fa.set_num_threads(3)
    fa.show_config()
    assert "threads                   : 3\n" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# element-wise: every function, both dtypes, sizes around the split threshold

ELEMENTWISE_SIZES = (1000, SPLIT_MIN - 1, SPLIT_MIN, SPLIT_MIN + 37, 3 * SPLIT_MIN + 129, 200_003)


def elementwise_input(kernel, dtype, n):
    # a pool of 4099 values (not a multiple of the 64-element blocks), so a block written at
    # the wrong offset shows
    x = np.resize(inputs(kernel, dtype, 4099), n)
    if n > 10:
        x[SPLIT_MIN // 2 % n] = np.nan     # special values near the first block edges
        x[-1] = np.inf
        x[-2] = -np.inf
    return x


@pytest.mark.parametrize("n", ELEMENTWISE_SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_elementwise_bits_do_not_depend_on_threads(case, dtype, n):
    entry, params = case
    x = elementwise_input(entry.kernel, dtype, n)
    assert_thread_independent(call, entry, x, params, what=f"{case_id(case)} n={n}")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES[::3], ids=case_id)
def test_elementwise_out_and_in_place_on_threads(case, dtype):
    entry, params = case
    x = elementwise_input(entry.kernel, dtype, 3 * SPLIT_MIN + 5)
    expected = on_threads(1, call, entry, x, params)
    for count in THREAD_COUNTS:
        out = np.full_like(x, 7.0)
        assert on_threads(count, call, entry, x, params, out=out) is out
        assert_same_bits(out, expected, f"out= on {count} threads")
        y = x.copy()
        on_threads(count, call, entry, y, params, out=y)
        assert_same_bits(y, expected, f"in place on {count} threads")


def test_float16_and_strided_inputs_on_threads():
    x = np.linspace(-8, 8, 3 * SPLIT_MIN + 11)
    assert_thread_independent(fa.sigmoid, x.astype(np.float16), what="float16")
    assert_thread_independent(fa.gelu, x[::3], what="strided")
    assert_thread_independent(fa.tanh, x[:3 * SPLIT_MIN].reshape(3, -1).astype(np.float32), what="2-d")


# ---------------------------------------------------------------------------------------
# softmax / log_softmax / logsumexp: blocks of slices along the leading axes

def reduction_input(shape, dtype, seed=0):
    """Uniform in +-50, with special slices (NaN, +inf, all -inf, one -inf, a dominant entry)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-50, 50, shape).astype(dtype)
    flat = x.reshape(-1, shape[-1]) if len(shape) > 1 else x.reshape(1, -1)
    rows = flat.shape[0]
    specials = [lambda r: r.__setitem__(0, np.nan), lambda r: r.__setitem__(-1, np.inf),
                lambda r: r.fill(-np.inf), lambda r: r.__setitem__(1 % r.size, -np.inf),
                lambda r: r.__setitem__(0, 1e4)]
    for k, put in enumerate(specials):
        put(flat[(k * 7919 + rows // 2) % rows])
    return x


# (shape, axis): last axis, axis 0, a middle axis (outer > 1 with inner > 1)
REDUCTION_CASES = [
    ((7, 100), -1),                 # below the threshold
    ((257, 1001), -1),              # many rows
    ((3, 40_000), -1),              # one row per part on 3 threads
    ((2, 50_257), -1),              # two long rows (float64 log_softmax: the pipelined output)
    ((5, 30_011), -1),
    ((4097, 17), -1),               # short rows
    ((1001, 257), 0),               # axis 0 of a matrix: one slice, columns
    ((300, 5, 67), 0),
    ((5, 300, 67), 1),              # blocks of outer with inner > 1
    ((9, 1500, 11), 1),
    ((11, 4, 2000), 2),
]


def reduction_id(case):
    shape, axis = case
    return "x".join(map(str, shape)) + f"-axis{axis}"


@pytest.mark.parametrize("case", REDUCTION_CASES, ids=reduction_id)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_reduction_bits_do_not_depend_on_threads(name, case, dtype, isa):
    shape, axis = case
    x = reduction_input(shape, dtype)
    f = getattr(fa, name)
    assert_thread_independent(f, x, axis=axis, what=f"{name} {shape} axis={axis} on {isa}")
    if name != "logsumexp":
        def in_place():
            y = x.copy()
            f(y, axis=axis, out=y)
            return y
        assert_thread_independent(in_place, what=f"{name} in place")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_logsumexp_rows_after_cancelling_rows_do_not_depend_on_threads(dtype, isa):
    """logsumexp along rows sums a row first without a shift when the row before cancelled
    (reductions/fa_rows.h, fa_sm_lse_rows); a thread's first row has no row before it.
    Normalised rows (result ~0), each followed by a row whose result lies in (-1, 1.4), where
    M + l and the unshifted sum disagree in their last bits; the start row moves the blocks'
    first rows over both kinds."""
    n = 2
    pairs = SPLIT_MIN // n // 2 + 101
    x = np.stack([log_probability_rows(dtype, n, pairs, seed=11),
                  log_probability_rows(dtype, n, pairs, seed=12, shifted=True)], axis=1).reshape(-1, n)
    for start in range(8):
        assert_thread_independent(fa.logsumexp, x[start:], axis=-1,
                                  what=f"logsumexp of {len(x) - start} rows after cancelling rows on {isa}")


# few slices of many columns: cut by column ranges (fa_axis_opts.cols), not by slices
COLUMN_SPLIT_CASES = [((1001, 257), 0), ((2, 700, 300), 1), ((3, 50, 1030), 1)]


@pytest.mark.parametrize("case", [((257, 1001), -1), ((5, 300, 67), 1), ((3, 40_000), -1)]
                         + COLUMN_SPLIT_CASES, ids=reduction_id)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_mask_weights_and_sign_follow_their_blocks(case, dtype):
    shape, axis = case
    x = reduction_input(shape, dtype, seed=1)
    rng = np.random.default_rng(2)
    where = rng.random(shape) < 0.8
    b = rng.uniform(-1, 2, shape).astype(dtype)
    for name in ("softmax", "log_softmax", "logsumexp"):
        assert_thread_independent(getattr(fa, name), x, axis=axis, where=where, what=f"{name} where=")
    assert_thread_independent(fa.logsumexp, x, axis=axis, b=b, return_sign=True, what="logsumexp b= sign")
    assert_thread_independent(fa.logsumexp, x, axis=axis, b=b, where=where, return_sign=True,
                              what="logsumexp b= where= sign")
    assert_thread_independent(fa.logsumexp, x, axis=axis, keepdims=True, what="logsumexp keepdims")


@pytest.mark.parametrize("case", COLUMN_SPLIT_CASES + [((257, 1001), -1)], ids=reduction_id)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_rowwise_gradients_do_not_depend_on_threads(case, dtype, isa):
    shape, axis = case
    x = reduction_input(shape, dtype, seed=3)
    rng = np.random.default_rng(4)
    g = rng.standard_normal(shape).astype(dtype)
    where = rng.random(shape) < 0.8
    for name, fwd in (("softmax_grad", fa.softmax), ("log_softmax_grad", fa.log_softmax)):
        y = fwd(x, axis=axis)
        f = getattr(fa, name)
        assert_thread_independent(f, y, g, axis=axis, what=f"{name} {shape} axis={axis} on {isa}")
        assert_thread_independent(f, y, g, axis=axis, where=where, what=f"{name} where=")


# ---------------------------------------------------------------------------------------
# the public C entry points (the capsule table of fastact.h), which split the same way

def capi_function(index, restype, *argtypes):
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    table = get(kernels._C_API, b"fastact.kernels._C_API")
    # abi_version, api_version (2 x unsigned), size (size_t), isa_in_use, then the kernels
    address = ctypes.c_void_p.from_address(table + 16 + 8 * (1 + index)).value
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


def capi_index(name, dtype):
    """The table slot of fa_<name>_<f32|f64>: the kernels in the list's order (kernels.OPS,
    every kind), f32 then f64 each."""
    return 2 * list(kernels.OPS).index(name) + (np.dtype(dtype) == np.float64)


@pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8 or ctypes.sizeof(ctypes.c_size_t) != 8,
                    reason="the table offsets below assume 64-bit pointers")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_public_c_entry_points_on_threads(dtype):
    ptr = np.ctypeslib.ndpointer(dtype=dtype, flags="C_CONTIGUOUS")
    size = ctypes.c_ssize_t
    x = reduction_input((9, 30_001), dtype)
    sigmoid = capi_function(capi_index("sigmoid", dtype), None, ptr, ptr, size)
    for name in ("softmax", "log_softmax", "logsumexp"):
        f = capi_function(capi_index(name, dtype), None, ptr, ptr, size, size)
        rows = np.empty(x.shape[0] if name == "logsumexp" else x.shape, dtype)

        def run():
            f(x, rows, x.shape[0], x.shape[1])
            return rows.copy()
        expected = assert_thread_independent(run, what=f"fa_{name}")
        assert_same_bits(expected, getattr(fa, name)(x, axis=-1), f"fa_{name} against the Python API")
    y = np.empty(x.size, dtype)

    def run_sigmoid():
        sigmoid(x.ravel(), y, x.size)
        return y.copy()
    assert_same_bits(assert_thread_independent(run_sigmoid, what="fa_sigmoid"), fa.sigmoid(x.ravel()))


# ---------------------------------------------------------------------------------------
# several Python threads at once, and the thread count changed while they run

def test_concurrent_calls_from_python_threads():
    rng = np.random.default_rng(3)
    work = [(fa.sigmoid, rng.standard_normal(300_001).astype(np.float32), {}),
            (fa.softmax, rng.uniform(-50, 50, (64, 4001)), {"axis": -1}),
            (fa.log_softmax, rng.uniform(-50, 50, (3, 50_000)), {"axis": -1}),
            (fa.logsumexp, rng.uniform(-50, 50, (5, 300, 67)).astype(np.float32), {"axis": 1}),
            (fa.gelu, rng.standard_normal(200_000), {})]
    expected = [on_threads(1, f, x, **kw) for f, x, kw in work]
    failures = []
    stop = threading.Event()

    def worker(k):
        try:
            for i in range(12):
                f, x, kw = work[(k + i) % len(work)]
                got = f(x, **kw)
                if not np.array_equal(got, expected[(k + i) % len(work)], equal_nan=True):
                    failures.append((k, i, f.__name__))
        except Exception as exc:      # reported below, not lost in the thread
            failures.append((k, repr(exc)))

    def switcher():
        counts = (1, 2, 3, 2)
        i = 0
        while not stop.is_set():
            fa.set_num_threads(counts[i % len(counts)])
            i += 1
            stop.wait(0.001)

    fa.set_num_threads(2)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    changer = threading.Thread(target=switcher)
    for t in threads + [changer]:
        t.start()
    for t in threads:
        t.join(timeout=300)
    stop.set()
    changer.join(timeout=60)
    assert not any(t.is_alive() for t in threads + [changer]), "a thread did not finish"
    assert failures == []


# ---------------------------------------------------------------------------------------
# FASTACT_NUM_THREADS, and fork() after the workers exist (subprocesses)

PROBE = """
import json, numpy as np, fastact as fa
x = np.linspace(-20, 20, 200_001)
print(json.dumps({"threads": fa.get_num_threads(), "info": fa.simd_info()["num_threads"],
                  "sigmoid": fa.sigmoid(x)[::997].view(np.uint64).tolist()}))
fa.show_config()
"""


def run_python(code, env_value):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("FASTACT_NUM_THREADS", None)
    if env_value is not None:
        env["FASTACT_NUM_THREADS"] = env_value
    # cwd outside the source tree, which would shadow an installed fastact (see test_main.py)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, cwd=CLEAN_CWD)
    assert done.returncode == 0, done.stderr
    return done.stdout


def expected_probe_sigmoid():
    return fa.sigmoid(np.linspace(-20, 20, 200_001))[::997].view(np.uint64).tolist()


@pytest.mark.parametrize("value", ["1", "2", "3", "16", str(kernels.THREADS_MAX)])
def test_environment_sets_the_thread_count(value):
    first, _, config = run_python(PROBE, value).partition("\n")
    probe = json.loads(first)
    assert probe["threads"] == probe["info"] == int(value)
    assert f"FASTACT_NUM_THREADS       : {value}\n" in config
    assert f"threads                   : {value}\n" in config
    assert probe["sigmoid"] == expected_probe_sigmoid()


@pytest.mark.parametrize("value", ["0", "-2", "abc", "2.5", " 2", "2 ", "0x2", "+2",
                                   str(kernels.THREADS_MAX + 1), "99999999999999999999"])
def test_invalid_environment_value_is_ignored_and_reported(value):
    first, _, config = run_python(PROBE, value).partition("\n")
    assert json.loads(first)["threads"] == 1
    assert f"FASTACT_NUM_THREADS       : {value} (ignored" in config
    assert "threads                   : 1\n" in config


def test_no_or_empty_environment_means_one_thread():
    for value in (None, ""):
        first, _, config = run_python(PROBE, value).partition("\n")
        assert json.loads(first)["threads"] == 1
        assert "FASTACT_NUM_THREADS" not in config


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")
def test_forked_child_recreates_the_workers():
    code = """
import os, numpy as np, fastact as fa
fa.set_num_threads(3)
x = np.linspace(-20, 20, 300_000)
expected = fa.softmax(x.reshape(3, -1), axis=-1)       # the workers exist from here on
pid = os.fork()
if pid == 0:
    ok = np.array_equal(fa.softmax(x.reshape(3, -1), axis=-1), expected)
    os._exit(0 if ok and fa.get_num_threads() == 3 else 1)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
assert np.array_equal(fa.softmax(x.reshape(3, -1), axis=-1), expected)
print("ok")
"""
    assert run_python(code, None).strip() == "ok"


# ---------------------------------------------------------------------------------------
# one long slice (axis=None, (1, n) along the last axis, (n, 1) along axis 0): cut into fixed
# blocks of 2^16 entries whatever the thread count (src_c/fa_slice_blocks.c)

SLICE_N = (1 << 18) + 4321           # five blocks, the last one short


def long_slice(kind, dtype):
    rng = np.random.default_rng(5)
    x = rng.normal(0, 3, SLICE_N)
    if kind == "nan-last-block":
        x[-3] = np.nan
    elif kind == "inf":
        x[70_000] = np.inf
    elif kind == "minus-inf":
        x[::5] = -np.inf
    elif kind == "all-minus-inf":
        x[:] = -np.inf
    elif kind == "normalised":
        x = x - np.log(np.sum(np.exp(x)))
    return x.astype(dtype)


@pytest.mark.parametrize("kind", ["normal", "nan-last-block", "inf", "minus-inf", "all-minus-inf", "normalised"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_one_long_slice_bits_do_not_depend_on_threads(kind, dtype, isa):
    x = long_slice(kind, dtype)
    for name in ("softmax", "log_softmax", "logsumexp"):
        f = getattr(fa, name)
        for arr, axis in ((x, None), (x.reshape(1, -1), -1), (x.reshape(-1, 1), 0)):
            assert_thread_independent(f, arr, axis=axis, what=f"{name} {kind} {arr.shape} axis={axis} on {isa}")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_one_long_slice_mask_weights_and_sign_on_threads(dtype):
    x = long_slice("normal", dtype)
    rng = np.random.default_rng(6)
    where = rng.random(SLICE_N) < 0.7
    b = rng.uniform(-1, 2, SLICE_N).astype(dtype)
    for name in ("softmax", "log_softmax", "logsumexp"):
        assert_thread_independent(getattr(fa, name), x, where=where, what=f"{name} where=")
    assert_thread_independent(fa.logsumexp, x, b=b, return_sign=True, what="logsumexp b= sign")
    assert_thread_independent(fa.logsumexp, x, b=b, where=where, return_sign=True, what="logsumexp b= where= sign")


@pytest.mark.parametrize("kind", ["normal", "deep", "nan-last-block", "inf-g", "masked"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_one_long_slice_gradients_on_threads(kind, dtype, isa):
    """softmax_grad / log_softmax_grad of one long slice: the blocks' sums, their total and the
    outputs are the same bits on any thread count, in place too, and within the row kernel's
    bound of the same slice computed as one row of a batch (the kernel without blocks), with
    its special values exactly."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-800, 800, SLICE_N) if kind == "deep" else rng.normal(0, 3, SLICE_N)
    g = rng.standard_normal(SLICE_N)
    where = rng.random(SLICE_N) < 0.7 if kind == "masked" else None
    if kind == "nan-last-block":
        g[-3] = np.nan
    elif kind == "inf-g":
        g[70_000] = np.inf
    x, g = x.astype(dtype), g.astype(dtype)
    kw = {} if where is None else {"where": where}
    for name, fwd in (("softmax_grad", fa.softmax), ("log_softmax_grad", fa.log_softmax)):
        y = fwd(x, **kw)
        f = getattr(fa, name)
        got = assert_thread_independent(f, y, g, axis=None, what=f"{name} {kind} on {isa}", **kw)
        batch_kw = {} if where is None else {"where": np.stack([where, where])}
        row = f(np.stack([y, y]), np.stack([g, g]), axis=-1, **batch_kw)[1]   # 2 slices: no blocks
        assert np.array_equal(np.isnan(got), np.isnan(row)), f"{name} {kind}: NaN where the row kernel has none"
        if kind in ("nan-last-block", "inf-g"):
            assert np.isnan(got).all(), f"{name} {kind}: a NaN sum makes the whole slice NaN"
            continue
        scale = np.maximum(np.abs(row.astype(np.float64)), np.finfo(dtype).tiny)
        err = np.abs(got.astype(np.float64) - row) / np.spacing(scale.astype(dtype)).astype(np.float64)
        assert err.max() <= 8, f"{name} {kind} on {isa}: {err.max():.1f} ULP from the row kernel"
        inplace = y.copy()
        f(inplace, g, axis=None, out=inplace, **kw)
        assert_same_bits(inplace, got, f"{name} {kind} in place")
