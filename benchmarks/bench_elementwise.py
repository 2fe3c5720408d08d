"""Element-wise functions: fastact vs the NumPy formula, SciPy and torch, from the registry.

    PYTHONPATH=. python -m pytest benchmarks/bench_elementwise.py --benchmark-enable \
        -k "sigmoid and float32" [--bench-large] [--bench-sizes 10,1000]

One benchmark group per (function, dtype, size), so the report reads function by function:
- fastact: `f(x, out=y)` into a preallocated array;
- numpy: the registry's formula as a user writes it (`entry.numpy`; it allocates its
  temporaries, which is part of its cost);
- scipy: the scipy.special ufunc named by the registry, with `out=y`;
- torch: torch.nn.functional (single thread), with `out=` where torch has one
  (torch.sigmoid, torch.tanh, torch.logit), else the plain call.
`extra_info["elements_per_s"]` is size / median time.  Two more groups: relu vs np.copyto
between the same arrays (the bandwidth floor), and the call overhead on an (8, 10) array
against np.exp.  Timings on a shared machine are noisy: compare within a group, in one run.
"""
import numpy as np
import pytest

import fastact as fa
from fastact._registry import ACTIVATIONS

from conftest import torch_or_none

TORCH = torch_or_none()
DTYPES = ("float32", "float64")


def _params(entry):
    return entry.test_params[0]


def _kwargs(entry):
    kwargs = {p.name: v for p, v in zip(entry.params, _params(entry))}
    if entry.select:
        kwargs[entry.select[0]] = entry.select[1]
    return kwargs


def _data(entry, dtype, size, seed=0):
    rng = np.random.default_rng(seed)
    if entry.kernel == "logit":
        x = rng.uniform(0, 1, size)
    else:
        x = rng.standard_normal(size) * 3
    return x.astype(dtype)


def _fastact(entry, x):
    f, kwargs, y = getattr(fa, entry.name), _kwargs(entry), np.empty_like(x)
    return lambda: f(x, out=y, **kwargs)


def _numpy(entry, x):
    formula, params = entry.numpy, _params(entry)
    return lambda: formula(np, x, *params)


def _scipy(entry, x):
    import scipy.special
    f, y = getattr(scipy.special, entry.scipy), np.empty_like(x)
    return lambda: f(x, out=y)


def _torch(entry, x):
    t = TORCH.from_numpy(x)
    kwargs = _kwargs(entry)
    if entry.kernel == "softplus" and kwargs.get("threshold") is None:
        kwargs["threshold"] = float("inf")
    with_out = getattr(TORCH, entry.torch, None)
    if with_out is not None and entry.torch in ("sigmoid", "tanh", "logit"):
        tout = TORCH.empty_like(t)
        return lambda: with_out(t, out=tout, **kwargs)
    f = getattr(TORCH.nn.functional, entry.torch)
    return lambda: f(t, **kwargs)


IMPLS = {"fastact": _fastact, "numpy": _numpy, "scipy": _scipy, "torch": _torch}


def _cases():
    for entry in ACTIVATIONS:
        impls = ["fastact", "numpy"]
        if entry.scipy:
            impls.append("scipy")
        if entry.torch and TORCH is not None:
            impls.append("torch")
        for dtype in DTYPES:
            for impl in impls:
                yield pytest.param(entry, dtype, impl, id=f"{entry.kernel}-{dtype}-{impl}")


def _run(benchmark, fn, group, size):
    benchmark.group = group
    with np.errstate(all="ignore"):     # the NumPy formulas overflow in exp on purpose
        benchmark(fn)
    if benchmark.stats is not None:
        benchmark.extra_info["elements_per_s"] = size / benchmark.stats.stats.median


@pytest.mark.parametrize("entry,dtype,impl", list(_cases()))
def test_elementwise(benchmark, entry, dtype, impl, size):
    x = _data(entry, dtype, size)
    _run(benchmark, IMPLS[impl](entry, x), f"{entry.kernel} {dtype} n={size}", size)


# Input kinds beyond N(0, 3), at n = 2^20 only: entries masked to -inf (10%), and x spread
# over the whole range where the exp-based functions' outputs are not yet at their limits
# (float32 (-120, 120), float64 (-800, 800)), where e^-|x| and the outputs reach the
# subnormals.  Intel cores take a microcode assist (~150 cycles) for each instruction with a
# subnormal operand or result while FTZ is off (AMD Zen 4 does not): these groups catch a
# kernel that lets one through.  (The ratio that counts is the worst kind's.)
KINDS = ("minus_inf", "wide")


def _kind_data(entry, dtype, size, kind):
    rng = np.random.default_rng(1)
    if kind == "minus_inf":
        x = _data(entry, dtype, size)
        x[rng.uniform(size=size) < 0.1] = -np.inf
        return x
    lim = 120.0 if dtype == "float32" else 800.0
    return rng.uniform(-lim, lim, size).astype(dtype)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("entry,dtype,impl",
                         [c for c in _cases() if c.values[2] in ("fastact", "torch") and c.values[0].kernel != "logit"])
def test_elementwise_input_kinds(benchmark, entry, dtype, impl, kind):
    size = 2 ** 20
    x = _kind_data(entry, dtype, size, kind)
    _run(benchmark, IMPLS[impl](entry, x), f"{entry.kernel} {dtype} n={size} {kind}", size)


@pytest.mark.parametrize("impl", ["fastact.relu", "np.copyto", "np.maximum"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_vs_copy(benchmark, impl, dtype, size):
    """The goal: relu within 1.3x of np.copyto between the same two arrays."""
    x = np.random.default_rng(0).standard_normal(size).astype(dtype)
    y = np.empty_like(x)
    fn = {"fastact.relu": lambda: fa.relu(x, out=y),
          "np.copyto": lambda: np.copyto(y, x),
          "np.maximum": lambda: np.maximum(x, 0, out=y)}[impl]
    _run(benchmark, fn, f"relu vs copyto {dtype} n={size}", size)


def _overhead_cases():
    impls = ["fastact.sigmoid", "fastact.relu", "fastact.sigmoid out=", "np.exp", "scipy.expit"]
    if TORCH is not None:
        impls.append("torch.sigmoid")
    return impls


@pytest.mark.parametrize("impl", _overhead_cases())
def test_call_overhead(benchmark, impl):
    """Per-call cost on a tiny (8, 10) float64 array."""
    import scipy.special
    x = np.random.default_rng(0).standard_normal((8, 10))
    y = np.empty_like(x)
    fn = {"fastact.sigmoid": lambda: fa.sigmoid(x),
          "fastact.relu": lambda: fa.relu(x),
          "fastact.sigmoid out=": lambda: fa.sigmoid(x, out=y),
          "np.exp": lambda: np.exp(x),
          "scipy.expit": lambda: scipy.special.expit(x),
          "torch.sigmoid": (lambda t: lambda: TORCH.sigmoid(t))(TORCH.from_numpy(x) if TORCH else None)}[impl]
    _run(benchmark, fn, "call overhead (8, 10) float64", x.size)
