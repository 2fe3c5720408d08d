"""Speed of logsumexp / softmax / log_softmax over input distributions, against their peers.

pytest-benchmark (one group per function, dtype, shape and row kind; fastact beside PyTorch
with one thread and scipy.special; torch skipped cleanly when it is not importable):

    PYTHONPATH=. python -m pytest benchmarks/bench_reductions.py --benchmark-enable \
        --benchmark-group-by=group --benchmark-columns=median,iqr,rounds \
        --benchmark-json=red.json
    python benchmarks/ratios.py red.json          # worst row kind per function/dtype/shape

Quick mode (no pytest; fastact and torch timed interleaved in one process, medians of many
repeats: the machine may be shared, so ratios taken this way are the ones to trust):

    PYTHONPATH=. python benchmarks/bench_reductions.py --quick [--funcs softmax,logsumexp]
        [--dtypes float32] [--shapes 1024x1024] [--kinds normalised,peaked] [--repeats 31] [--scipy] [--min]
        [--axis 0]

Short rows (a classifier's classes, attention over a few keys: the group paths of
src_c/reductions/fa_short_rows.h): --shapes 1048576x2,131072x16,32768x64.

--axis 0 reduces the columns instead: each kind is drawn as rows of shape (columns, n) and
stored transposed, C-contiguous (n, columns), so every column is a slice of that kind
(--shapes 64x50257 --axis 0: 50257 columns of 64 entries).

Row kinds (KINDS): what real code feeds these functions, not one tuned distribution:
uniform +-50, uniform +-800 (log-weights: a particle filter's or an importance sampler's,
spread past float64's exp range: float64 outputs in the subnormals), N(0,1), N(0,3) (classifier logits), N(0,3)-20, N(0,3)+100, one confident
class (+12 on one entry), normalised log-probabilities (log_softmax output: logsumexp of
these cancels to ~0), masked rows (where=, 10% left out; the peers fill -inf first) and
rows with -inf entries (10%).  Also the axis=0 and (8, 10) groups of the uniform kind.
"""
import sys
import time

import numpy as np
import pytest

import fastact as fa


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is optional
        return None
    torch.set_num_threads(1)
    return torch


def _scipy():
    try:
        import scipy.special as sc
    except ImportError:  # pragma: no cover
        return None
    return sc


FUNCS = ("softmax", "log_softmax", "logsumexp")
DTYPES = (np.float32, np.float64)
SHAPES = ((1024, 1024), (64, 50257))


def _normal(rng, shape, s=3.0, shift=0.0):
    return rng.standard_normal(shape) * s + shift


def _peaked(rng, shape, dtype=None):
    x = rng.standard_normal(shape) * 3.0
    x[np.arange(shape[0]), rng.integers(0, shape[1], shape[0])] += 12.0
    return x


def _normalised(rng, shape, dtype):
    x = (rng.standard_normal(shape) * 3.0).astype(dtype)
    return fa.log_softmax(x, axis=-1)


def _with_minus_inf(rng, shape, dtype=None):
    x = rng.standard_normal(shape) * 3.0
    x[rng.uniform(size=shape) < 0.1] = -np.inf
    return x


KINDS = {   # name -> f(rng, shape, dtype) giving the array (its dtype) ; masked adds where=
    "uniform50": lambda r, s, d: r.uniform(-50, 50, s),
    "uniform800": lambda r, s, d: r.uniform(-800, 800, s),
    "normal1": lambda r, s, d: _normal(r, s, 1.0),
    "normal3": lambda r, s, d: _normal(r, s, 3.0),
    "normal3-20": lambda r, s, d: _normal(r, s, 3.0, -20.0),
    "normal3+100": lambda r, s, d: _normal(r, s, 3.0, 100.0),
    "peaked": _peaked,
    "normalised": _normalised,
    "masked": lambda r, s, d: _normal(r, s, 3.0),
    "minus_inf": _with_minus_inf,
}


def make(kind, shape, dtype, seed=0):
    """(x, where) of a row kind: where is a boolean mask for the masked kind, else None."""
    rng = np.random.default_rng(seed)
    x = np.ascontiguousarray(KINDS[kind](rng, shape, dtype), dtype=dtype)
    where = (rng.uniform(size=shape) >= 0.1) if kind == "masked" else None
    return x, where


def callers(func, x, where, axis=-1, with_scipy=True):
    """{peer: zero-argument callable} for one case (peers that exist here)."""
    out = {}
    kw = {} if where is None else {"where": where}
    out["fastact"] = lambda: getattr(fa, func)(x, axis=axis, **kw)
    torch = _torch()
    if torch is not None:
        xt = torch.from_numpy(x)
        if where is not None:
            drop = torch.from_numpy(~where)
            xt_fn = lambda: xt.masked_fill(drop, float("-inf"))   # noqa: E731
        else:
            xt_fn = lambda: xt                                     # noqa: E731
        tf = {"softmax": torch.softmax, "log_softmax": torch.log_softmax,
              "logsumexp": torch.logsumexp}[func]
        out["torch"] = lambda: tf(xt_fn(), axis)
    sc = _scipy() if with_scipy else None
    if sc is not None and where is None:       # scipy has no where=
        out["scipy"] = lambda: getattr(sc, func)(x, axis=axis)
    return out


# ------------------------------------------------------------------ pytest-benchmark
def _cases():
    for func in FUNCS:
        for dtype in DTYPES:
            for shape in SHAPES:
                for kind in KINDS:
                    for peer in ("fastact", "torch", "scipy"):
                        if peer == "scipy" and kind == "masked":
                            continue
                        yield pytest.param(func, dtype, shape, kind, peer,
                                           id=f"{func}-{np.dtype(dtype).name}-{shape[0]}x{shape[1]}-{kind}-{peer}")


@pytest.mark.parametrize("func, dtype, shape, kind, peer", list(_cases()))
def test_reduction_kind(benchmark, func, dtype, shape, kind, peer):
    x, where = make(kind, shape, dtype)
    fns = callers(func, x, where)
    if peer not in fns:
        pytest.skip(f"{peer} is not installed")
    benchmark.group = f"{func} {np.dtype(dtype).name} {shape[0]}x{shape[1]} kind={kind}"
    benchmark.extra_info.update(peer=peer, func=func, dtype=np.dtype(dtype).name,
                                shape=f"{shape[0]}x{shape[1]}", kind=kind)
    with np.errstate(all="ignore"):
        benchmark(fns[peer])
    benchmark.extra_info["elements_per_s"] = x.size / benchmark.stats.stats.median


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape, axis", [((8, 10), -1), ((1024, 1024), 0)])
@pytest.mark.parametrize("peer", ["fastact", "torch", "scipy"])
def test_reduction_layout(benchmark, func, dtype, shape, axis, peer):
    x, _ = make("uniform50", shape, dtype)
    fns = callers(func, x, None, axis)
    if peer not in fns:
        pytest.skip(f"{peer} is not installed")
    benchmark.group = f"{func} {np.dtype(dtype).name} {shape[0]}x{shape[1]} axis={axis}"
    benchmark.extra_info.update(peer=peer)
    with np.errstate(all="ignore"):
        benchmark(fns[peer])
    benchmark.extra_info["elements_per_s"] = x.size / benchmark.stats.stats.median


# ------------------------------------------------------------------ quick mode
MIN_TIMES = "--min" in sys.argv   # the fastest sample instead of the median (a loaded machine)


def interleaved(fns, repeats, budget=0.02):
    """Median CPU time (process_time: time this process ran, so other processes on a shared
    machine count less) of each callable, timed round-robin (slow moments hit every
    contender alike).  Each sample runs a callable enough times to last ~budget s."""
    for f in fns.values():
        f()
    inner = {}
    for k, f in fns.items():
        t0 = time.process_time()
        f()
        dt = time.process_time() - t0
        inner[k] = max(1, int(budget / max(dt, 1e-7)))
    samples = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.process_time()
            for _ in range(inner[k]):
                f()
            samples[k].append((time.process_time() - t0) / inner[k])
    stat = np.min if MIN_TIMES else np.median
    return {k: float(stat(v)) for k, v in samples.items()}


def quick(argv):
    def opt(name, default):
        for a in argv:
            if a.startswith(f"--{name}="):
                return a.split("=", 1)[1]
        if f"--{name}" in argv:
            return argv[argv.index(f"--{name}") + 1]
        return default
    funcs = opt("funcs", ",".join(FUNCS)).split(",")
    dtypes = [np.dtype(d).type for d in opt("dtypes", "float32,float64").split(",")]
    shapes = [tuple(int(v) for v in s.split("x")) for s in opt("shapes", "1024x1024,64x50257").split(",")]
    kinds = opt("kinds", ",".join(KINDS)).split(",")
    repeats = int(opt("repeats", "15"))
    with_scipy = "--scipy" in argv
    axis = int(opt("axis", "-1"))
    print(f"axis={axis}")
    print(f"{'function':12s} {'dtype':8s} {'shape':10s} {'kind':12s} {'fastact us':>11s} "
          f"{'torch us':>10s} {'torch/fa':>9s} {'scipy/fa':>9s}")
    for func in funcs:
        for dtype in dtypes:
            for shape in shapes:
                line = []
                for kind in kinds:
                    if axis == 0:          # slices of the kind as columns
                        x, where = make(kind, shape[::-1], dtype)
                        x = np.ascontiguousarray(x.T)
                        where = None if where is None else np.ascontiguousarray(where.T)
                    else:
                        x, where = make(kind, shape, dtype)
                    fns = callers(func, x, where, axis=axis, with_scipy=with_scipy)
                    with np.errstate(all="ignore"):
                        t = interleaved(fns, repeats)
                    tr = t.get("torch", np.nan) / t["fastact"]
                    sr = t.get("scipy", np.nan) / t["fastact"]
                    line.append((kind, t["fastact"], tr))
                    print(f"{func:12s} {np.dtype(dtype).name:8s} {shape[0]}x{shape[1]:<6d} {kind:12s} "
                          f"{t['fastact'] * 1e6:11.1f} {t.get('torch', np.nan) * 1e6:10.1f} "
                          f"{tr:8.2f}x {sr:8.2f}x", flush=True)
                times = [v[1] for v in line]
                worst = min(line, key=lambda v: v[2])
                print(f"{'':12s} {'':8s} {'':10s} worst {worst[0]} {worst[2]:.2f}x torch; "
                      f"slowest/fastest kind {max(times) / min(times):.2f}", flush=True)


if __name__ == "__main__":
    if "--quick" in sys.argv:
        quick(sys.argv[1:])
    else:
        print(__doc__)
