"""Speed of logsumexp / softmax / log_softmax against their peers (pytest-benchmark).

    PYTHONPATH=. python -m pytest benchmarks/bench_reductions.py --benchmark-enable \
        --benchmark-group-by=group --benchmark-columns=median,iqr,rounds

One group per (function, dtype, shape, axis): fastact, the NumPy three-liner, scipy.special,
and torch with one thread (skipped cleanly when torch is not importable).  Every case puts
elements/s (at the median) in extra_info.  The machine may be shared: compare within a group,
medians, and re-run rather than trust one figure.  The (4096, 4096) group writes softmax
into a preallocated `out` next to np.copyto between the same arrays: memory speed is the
bound there.
"""
import numpy as np
import pytest
import scipy.special as sc

import fastact as fa

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is optional
    torch = None

SHAPES = [((8, 10), -1), ((1024, 1024), -1), ((1024, 1024), 0), ((64, 50257), -1)]
DTYPES = [np.float32, np.float64]


def _data(shape, dtype):
    return np.random.default_rng(0).uniform(-10, 10, shape).astype(dtype)


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _np_logsumexp(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return np.log(np.exp(x - m).sum(axis=axis)) + np.squeeze(m, axis)


PEERS = {
    "softmax": {"fastact": lambda x, a: fa.softmax(x, axis=a), "numpy": _np_softmax,
                "scipy": lambda x, a: sc.softmax(x, axis=a),
                "torch": lambda t, a: torch.softmax(t, a)},
    "log_softmax": {"fastact": lambda x, a: fa.log_softmax(x, axis=a), "numpy": _np_log_softmax,
                    "scipy": lambda x, a: sc.log_softmax(x, axis=a),
                    "torch": lambda t, a: torch.log_softmax(t, a)},
    "logsumexp": {"fastact": lambda x, a: fa.logsumexp(x, axis=a), "numpy": _np_logsumexp,
                  "scipy": lambda x, a: sc.logsumexp(x, axis=a),
                  "torch": lambda t, a: torch.logsumexp(t, a)},
}


def _cases():
    for func in PEERS:
        for shape, axis in SHAPES:
            for dtype in DTYPES:
                for peer in PEERS[func]:
                    yield pytest.param(func, shape, axis, dtype, peer,
                                       id=f"{func}-{np.dtype(dtype).name}-{shape[0]}x{shape[1]}-axis{axis}-{peer}")


@pytest.mark.parametrize("func, shape, axis, dtype, peer", list(_cases()))
def test_reduction(benchmark, func, shape, axis, dtype, peer):
    if peer == "torch" and torch is None:
        pytest.skip("torch is not installed")
    x = _data(shape, dtype)
    arg = torch.from_numpy(x) if peer == "torch" else x
    fn = PEERS[func][peer]
    benchmark.group = f"{func} {np.dtype(dtype).name} {shape} axis={axis}"
    benchmark.extra_info["peer"] = peer
    with np.errstate(all="ignore"):
        benchmark(fn, arg, axis)
    benchmark.extra_info["elements_per_s"] = x.size / benchmark.stats.stats.median


@pytest.mark.parametrize("what", ["fastact.softmax", "np.copyto", "torch.softmax"])
def test_softmax_4096_into_out(benchmark, what):
    """softmax of a (4096, 4096) float32 array into a preallocated out, next to a plain copy."""
    if what.startswith("torch") and torch is None:
        pytest.skip("torch is not installed")
    x = _data((4096, 4096), np.float32)
    out = np.empty_like(x)
    benchmark.group = "softmax float32 (4096, 4096) into out"
    if what == "fastact.softmax":
        benchmark(fa.softmax, x, -1, out)
    elif what == "np.copyto":
        benchmark(np.copyto, out, x)
    else:
        xt = torch.from_numpy(x)            # torch.softmax has no out=: it allocates its result
        benchmark(torch.softmax, xt, -1)
    benchmark.extra_info["elements_per_s"] = x.size / benchmark.stats.stats.median


@pytest.mark.parametrize("what", ["fastact", "numpy", "torch"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_masked_softmax(benchmark, what, dtype):
    """softmax of (1024, 1024) rows with a boolean mask (10% of the entries left out), as in
    masked attention: fastact's where= against filling -inf first (NumPy, torch)."""
    if what == "torch" and torch is None:
        pytest.skip("torch is not installed")
    x = _data((1024, 1024), dtype)
    keep = np.random.default_rng(1).uniform(size=x.shape) >= 0.1
    benchmark.group = f"softmax {np.dtype(dtype).name} (1024, 1024) where= mask"
    if what == "fastact":
        benchmark(fa.softmax, x, -1, None, keep)
    elif what == "numpy":
        benchmark(lambda: _np_softmax(np.where(keep, x, -np.inf), -1))
    else:
        xt, dropt = torch.from_numpy(x), torch.from_numpy(~keep)
        benchmark(lambda: torch.softmax(xt.masked_fill(dropt, float("-inf")), -1))
    benchmark.extra_info["elements_per_s"] = x.size / benchmark.stats.stats.median
