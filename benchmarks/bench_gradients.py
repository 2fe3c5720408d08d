"""Element-wise gradients: fastact `<name>_grad(x, g, out=y)` vs torch autograd and the
NumPy formula, from the registry's GRADIENTS.

    PYTHONPATH=. python -m pytest benchmarks/bench_gradients.py --benchmark-enable \
        --bench-sizes 1048576 -k float32
    PYTHONPATH=. python benchmarks/bench_gradients.py --quick      # interleaved ratios, 2^20 float32
    PYTHONPATH=. python benchmarks/bench_gradients.py --quick --jax    # the same with JAX's column
    PYTHONPATH=. python benchmarks/bench_gradients.py --rows       # softmax_grad / log_softmax_grad
    PYTHONPATH=. python benchmarks/bench_gradients.py --kinds      # N(0,3) / -inf / wide inputs, ms
    PYTHONPATH=. python benchmarks/bench_gradients.py --cold       # copy-like gradients, caches flushed

One group per (gradient, dtype, size):
- fastact: `f_grad(x, g, *params, out=y)` into a preallocated array;
- numpy: `g * f'(x)` with the registry's formula for f'(x) (`entry.numpy`), as a user writes it;
- torch: `torch.autograd.grad(y, x, g, retain_graph=True)` on torch's forward (single thread):
  only the backward pass is timed (the forward and its graph are built once, outside);
- jax (where installed; benchmarks/conftest.py): `jax.jit(lambda x, g: jax.vjp(f, x)[1](g)[0])`
  with f the registry's `jax` peer (fastact._registry.jax_peer): one compiled computation of
  x and g, what the backward needs of the forward included, as a user's jitted gradient.
  Reported beside, not in "best peer", which stays issue 9's (torch and NumPy).  --quick
  leaves JAX out unless --jax is given: in the interleaved rounds its calls (each allocating
  its result) change the cache state the next call starts from, and every figure with it.
The goal (issue 9): fastact >= 1.5x the fastest of torch and numpy at 2^20 float32.
sigmoid_grad_from_output / tanh_grad_from_output (y = f(x) in, no exp) close the table: torch's
own sigmoid and tanh backward work from the output, so those are the like-for-like rows; the
x-based sigmoid_grad / tanh_grad rows compare an exp per entry against torch's product.
"""
import sys
import time

import numpy as np
import pytest

import fastact as fa
from fastact._registry import BY_KERNEL, GRADIENTS, OUTPUT_GRADIENTS, jax_peer

try:
    from conftest import exit_on_help, interleaved_rounds, jax_or_none, torch_or_none
except ImportError:                          # run as a script from the repository root
    sys.path.insert(0, "benchmarks")
    from conftest import exit_on_help, interleaved_rounds, jax_or_none, torch_or_none

TORCH = torch_or_none()
JAX = jax_or_none()
DTYPES = ("float32", "float64")


def _forward(entry):
    return BY_KERNEL[entry.forward]


def _params(entry):
    return _forward(entry).test_params[0]


def _data(entry, dtype, size, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size) if entry.forward == "logit" else rng.standard_normal(size) * 3
    return x.astype(dtype), rng.standard_normal(size).astype(dtype)


def _fastact(entry, x, g):
    fwd = _forward(entry)
    kwargs = {fwd.select[0]: fwd.select[1]} if fwd.select else {}
    f, params, y = getattr(fa, entry.name), _params(entry), np.empty_like(x)
    return lambda: f(x, g, *params, out=y, **kwargs)


def _numpy(entry, x, g):
    formula, params = entry.numpy, _params(entry)
    return lambda: g * formula(np, x, *params)


def _torch(entry, x, g):
    fwd = _forward(entry)
    kw = {p.name: v for p, v in zip(fwd.params, _params(entry))}
    if kw.get("threshold", 0) is None:
        kw["threshold"] = float("inf")
    if fwd.select:
        kw[fwd.select[0]] = fwd.select[1]
    if fwd.torch == "logit":
        fn = lambda t: TORCH.logit(t, kw["eps"])          # noqa: E731
    elif fwd.torch in ("sigmoid", "tanh"):
        fn = getattr(TORCH, fwd.torch)
    else:
        fn = lambda t, f=getattr(TORCH.nn.functional, fwd.torch): f(t, **kw)   # noqa: E731
    t = TORCH.from_numpy(x).requires_grad_(True)
    y = fn(t)
    tg = TORCH.from_numpy(g)
    return lambda: TORCH.autograd.grad(y, t, tg, retain_graph=True)


def _jax(entry, x, g):
    f = jax_peer(_forward(entry), JAX)
    back = JAX.jit(lambda t, c: JAX.vjp(f, t)[1](c)[0])
    jx, jg = JAX.numpy.asarray(x), JAX.numpy.asarray(g)
    JAX.block_until_ready(back(jx, jg))          # compiled here, not in the first timed call
    return lambda: JAX.block_until_ready(back(jx, jg))


IMPLS = {"fastact": _fastact, "numpy": _numpy, "torch": _torch, "jax": _jax}


# The derivatives from the forward's output (OUTPUT_GRADIENTS: sigmoid, tanh): torch's autograd
# backward of sigmoid and tanh is itself computed from the saved output (sigmoid_backward,
# tanh_backward), so these rows are the like-for-like comparison; the x-based rows above compute
# f'(x) with an exp (accurate where y (1 - y) cancels).  Same torch contender: the backward of
# the forward on x, the output y = f(x) handed to fastact and NumPy.
def _from_output_data(entry, dtype, size):
    x, g = _data(GRAD_FOR_FORWARD[entry.forward], dtype, size)
    return x, getattr(fa, BY_KERNEL[entry.forward].name)(x), g


def _out_fastact(entry, x, y, g):
    f, out = getattr(fa, entry.name), np.empty_like(y)
    return lambda: f(y, g, out=out)


def _out_numpy(entry, x, y, g):
    return lambda: g * entry.numpy(np, y)


def _out_torch(entry, x, y, g):
    return _torch(GRAD_FOR_FORWARD[entry.forward], x, g)


def _out_jax(entry, x, y, g):
    return _jax(GRAD_FOR_FORWARD[entry.forward], x, g)


GRAD_FOR_FORWARD = {entry.forward: entry for entry in GRADIENTS}
OUT_IMPLS = {"fastact": _out_fastact, "numpy": _out_numpy, "torch": _out_torch, "jax": _out_jax}


def _peers(entry, jax=True):
    """the contenders this entry has here: fastact, numpy, and torch / jax where installed"""
    fwd = _forward(GRAD_FOR_FORWARD[entry.forward]) if entry in OUTPUT_GRADIENTS else _forward(entry)
    return (["fastact", "numpy"] + (["torch"] if TORCH is not None and fwd.torch else [])
            + (["jax"] if jax and JAX is not None and fwd.jax else []))


def _cases():
    for entry in GRADIENTS:
        for dtype in DTYPES:
            for impl in _peers(entry):
                yield pytest.param(entry, dtype, impl, id=f"{entry.kernel}-{dtype}-{impl}")


def _out_cases():
    for entry in OUTPUT_GRADIENTS:
        for dtype in DTYPES:
            for impl in _peers(entry):
                yield pytest.param(entry, dtype, impl, id=f"{entry.kernel}-{dtype}-{impl}")


@pytest.mark.parametrize("entry,dtype,impl", list(_out_cases()))
def test_gradient_from_output(benchmark, entry, dtype, impl, size):
    x, y, g = _from_output_data(entry, dtype, size)
    benchmark.group = f"{entry.kernel} {dtype} n={size}"
    with np.errstate(all="ignore"):
        benchmark(OUT_IMPLS[impl](entry, x, y, g))


@pytest.mark.parametrize("entry,dtype,impl", list(_cases()))
def test_gradient(benchmark, entry, dtype, impl, size):
    x, g = _data(entry, dtype, size)
    benchmark.group = f"{entry.kernel} {dtype} n={size}"
    with np.errstate(all="ignore"):
        benchmark(IMPLS[impl](entry, x, g))
    if benchmark.stats is not None:
        benchmark.extra_info["elements_per_s"] = size / benchmark.stats.stats.median


def quick(size=2 ** 20, dtype="float32", rounds=15, names=None, with_jax=False):
    """Interleaved medians in one process: per round, each contender once, in turn."""
    if with_jax and JAX is None:
        sys.exit("--jax: jax is not installed (pip install \"jax[cpu]\")")
    print(f"{'gradient':24s} {'fastact us':>11s} {'numpy us':>10s} {'torch us':>10s} {'best peer / fastact':>20s}"
          + (f"{'':14s}  {'jax us':>8s} {'jax / fastact':>13s}" if with_jax else "")
          + f"  (n={size} {dtype}, median of {rounds} interleaved rounds, spread = max/min of the ratio over rounds;"
          f" best peer: torch and numpy)")
    ratios = {}
    for entry in GRADIENTS + OUTPUT_GRADIENTS:
        if names and entry.kernel not in names:
            continue
        if entry in OUTPUT_GRADIENTS:
            x, y, g = _from_output_data(entry, dtype, size)
            impls = {k: OUT_IMPLS[k](entry, x, y, g) for k in _peers(entry, with_jax)}
        else:
            x, g = _data(entry, dtype, size)
            impls = {k: IMPLS[k](entry, x, g) for k in _peers(entry, with_jax)}
        times = interleaved_rounds(impls, rounds)
        med = {k: float(np.median(v)) for k, v in times.items()}
        peers = [k for k in med if k in ("numpy", "torch")]
        per_round = [min(times[k][i] for k in peers) / times["fastact"][i] for i in range(rounds)]
        best = min(med[k] for k in peers)
        ratios[entry.kernel] = best / med["fastact"]
        jax = f"  {med['jax'] * 1e6:8.1f} {med['jax'] / med['fastact']:12.2f}x" if "jax" in med else ""
        print(f"{entry.kernel:24s} {med['fastact'] * 1e6:11.1f} {med['numpy'] * 1e6:10.1f} "
              f"{med.get('torch', float('nan')) * 1e6:10.1f} {ratios[entry.kernel]:12.2f}x"
              f"   spread {max(per_round) / min(per_round):.2f}{jax}")
    return ratios


def kinds(size=2 ** 20, rounds=9):
    """fastact's gradients on three input kinds, ms (medians, out=): N(0, 3), the same with 10%
    of entries -inf (masked), and uniform over +-120 (float32) / +-800 (float64), where f'(x)
    enters the subnormals (an Intel core's microcode assist for each multiplication that
    touches one: the kernels route those lanes around it).  The cliff is the worst/first."""
    rng = np.random.default_rng(1)
    print(f"{'gradient':18s} {'dtype':8s} {'N(0,3)':>8s} {'-inf 10%':>9s} {'wide':>8s} {'worst/N(0,3)':>13s}")
    for dtype in DTYPES:
        lim = 120.0 if dtype == "float32" else 800.0
        for entry in GRADIENTS:
            if entry.forward == "logit":
                continue
            x, g = _data(entry, dtype, size)
            xi = x.copy()
            xi[rng.uniform(size=size) < 0.1] = -np.inf
            xw = rng.uniform(-lim, lim, size).astype(dtype)
            with np.errstate(all="ignore"):
                times = interleaved_rounds({k: _fastact(entry, v, g) for k, v in
                                            (("n", x), ("inf", xi), ("wide", xw))}, rounds)
            ms = [float(np.median(times[k])) * 1e3 for k in ("n", "inf", "wide")]
            print(f"{entry.kernel:18s} {dtype:8s} {ms[0]:8.3f} {ms[1]:9.3f} {ms[2]:8.3f} {max(ms) / ms[0]:12.1f}x")


def rows(rounds=25):
    """softmax_grad / log_softmax_grad (y the forward's output, into out=) against torch's own
    backward kernels (torch._softmax_backward_data / _log_softmax_backward_data, one thread),
    interleaved, medians; N(0, 3) logits."""
    if TORCH is None:
        sys.exit("--rows needs torch")
    rng = np.random.default_rng(0)
    print(f"{'gradient':46s} {'fastact ms':>10s} {'torch ms':>9s} {'torch / fastact':>16s}")
    for dt in (np.float32, np.float64):
        for shape, axis in (((1024, 1024), -1), ((1024, 1024), 0), ((64, 50257), -1)):
            x = (rng.standard_normal(shape) * 3).astype(dt)
            g = rng.standard_normal(shape).astype(dt)
            for which in ("softmax", "log_softmax"):
                y, out = getattr(fa, which)(x, axis=axis), np.empty_like(x)
                f = getattr(fa, which + "_grad")
                ty, tg = TORCH.from_numpy(y), TORCH.from_numpy(g)
                back = getattr(TORCH, f"_{which}_backward_data")
                impls = {"fastact": lambda: f(y, g, axis=axis, out=out),
                         "torch": lambda: back(tg, ty, axis % len(shape), ty.dtype)}
                times = interleaved_rounds(impls, rounds)
                a, b = (float(np.median(times[k])) for k in ("fastact", "torch"))
                name = f"{which}_grad {np.dtype(dt).name} {shape} axis={axis}"
                print(f"{name:46s} {a * 1e3:10.3f} {b * 1e3:9.3f} {b / a:15.2f}x")


def cold(size=2 ** 20, rounds=30):
    """The copy-like gradients against the same memory traffic elsewhere (two reads, one write),
    2^20 float32 into out=: each call after a 64 MB read that evicts the operands from the
    caches ("cold"), then each call right after itself ("warm"); medians in us.  Their ratio to
    torch autograd is then autograd's overhead, not a kernel's speed."""
    rng = np.random.default_rng(0)
    x, g = (rng.standard_normal(size, dtype=np.float32) for _ in range(2))
    y = np.empty_like(x)
    junk = np.ones(16 * 2 ** 20, np.float32)
    cases = {"fastact relu_grad": lambda: fa.relu_grad(x, g, out=y),
             "fastact hardtanh_grad": lambda: fa.hardtanh_grad(x, g, out=y),
             "fastact relu6_grad": lambda: fa.relu6_grad(x, g, out=y),
             "np.add(x, g, out=y)": lambda: np.add(x, g, out=y)}
    if TORCH is not None:
        tx, tg, ty = TORCH.from_numpy(x), TORCH.from_numpy(g), TORCH.from_numpy(y)
        aten = TORCH.ops.aten
        cases["torch threshold_backward out="] = lambda: aten.threshold_backward.grad_input(tg, tx, 0.0, grad_input=ty)
        cases["torch hardtanh_backward out="] = lambda: aten.hardtanh_backward.grad_input(tg, tx, 0.0, 6.0, grad_input=ty)
        cases["torch hardtanh_backward (new)"] = lambda: aten.hardtanh_backward(tg, tx, 0.0, 6.0)
    res = {k: ([], []) for k in cases}
    for _ in range(rounds):
        for k, f in cases.items():
            junk.sum()
            t0 = time.perf_counter()
            f()
            res[k][0].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            f()
            res[k][1].append(time.perf_counter() - t0)
    print(f"{'call (2^20 float32)':32s} {'cold us':>9s} {'warm us':>9s}  (medians of {rounds})")
    for k, (c, w) in res.items():
        print(f"{k:32s} {np.median(c) * 1e6:9.1f} {np.median(w) * 1e6:9.1f}")


if __name__ == "__main__":
    exit_on_help(__doc__)
    args = sys.argv[1:]
    if "--rows" in args:
        rows()
        sys.exit()
    if "--kinds" in args:
        kinds()
        sys.exit()
    if "--cold" in args:
        cold()
        sys.exit()
    if "--quick" not in args:
        sys.exit(__doc__)
    quick(dtype="float64" if "--float64" in args else "float32",
          names=[a for a in args if not a.startswith("--")] or None, with_jax="--jax" in args)
