"""cross_entropy forward ('mean', class targets) and forward + backward: fastact vs torch (single
thread), JAX (where installed; see benchmarks/conftest.py), the NumPy implementation (the
registry's LOSSES numpy formula) and one np.sum over the logits (one read of the data: the
floor of any loss).

    PYTHONPATH=. python -m pytest benchmarks/bench_losses.py --benchmark-enable
    PYTHONPATH=. python benchmarks/bench_losses.py --quick          # interleaved ratios
    PYTHONPATH=. python benchmarks/bench_losses.py --quick --jax    # with JAX's column
    PYTHONPATH=. python benchmarks/bench_losses.py --quick --huge   # also (8192, 128256): 4 GB float32

Cases: float32 logits (4096, 1000) and (64, 50257), N(0, 3) ("normal") and confident rows (the
target's logit + 12, "confident": the rows of a converging model).
- forward: fastact cross_entropy; torch F.cross_entropy; numpy max-shifted log-sum-exp minus the
  picked logit, mean;
- forward + backward: fastact cross_entropy(..., return_grad=True); torch F.cross_entropy then
  .backward() (leaf tensor, grad cleared each time); numpy forward then softmax - one-hot / N;
- jax: optax's softmax_cross_entropy_with_integer_labels written out (logsumexp minus the
  picked logit, mean), jitted; forward + backward: jax.jit(jax.value_and_grad(loss)).  --quick
  leaves it out unless --jax is given (its allocations change the cache state the other
  interleaved calls start from, as in bench_gradients.py).
"""
import sys

import numpy as np
import pytest

import fastact as fa
from fastact._registry import LOSS_BY_NAME

try:
    from conftest import exit_on_help, interleaved_rounds, jax_or_none, torch_or_none
except ImportError:                          # run as a script from the repository root
    sys.path.insert(0, "benchmarks")
    from conftest import exit_on_help, interleaved_rounds, jax_or_none, torch_or_none

TORCH = torch_or_none()
JAX = jax_or_none()
CE = LOSS_BY_NAME["cross_entropy"]
SHAPES = {"4096x1000": (4096, 1000), "64x50257": (64, 50257)}
HUGE = {"8192x128256": (8192, 128256)}
KINDS = ("normal", "confident")


def _data(shape, kind, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape, dtype=np.float32) * 3)
    t = rng.integers(0, shape[1], shape[0])
    if kind == "confident":
        x[np.arange(shape[0]), t] += 12.0
    return x, t


def _fastact(what, x, t):
    if what == "forward":
        return lambda: fa.cross_entropy(x, t)
    return lambda: fa.cross_entropy(x, t, return_grad=True)


def _numpy(what, x, t):
    if what == "forward":
        return lambda: CE.numpy(np, x, t).mean()

    def both():
        m = x.max(axis=-1, keepdims=True)
        e = np.exp(x - m)
        s = e.sum(axis=-1, keepdims=True)
        loss = (m[:, 0] + np.log(s[:, 0]) - x[np.arange(x.shape[0]), t]).mean()
        g = e / s
        g[np.arange(x.shape[0]), t] -= 1
        g /= x.shape[0]
        return loss, g
    return both


def _torch(what, x, t):
    F = TORCH.nn.functional
    tx, tt = TORCH.from_numpy(x), TORCH.from_numpy(t)
    if what == "forward":
        return lambda: F.cross_entropy(tx, tt)
    leaf = tx.clone().requires_grad_(True)

    def both():
        leaf.grad = None
        loss = F.cross_entropy(leaf, tt)
        loss.backward()
        return loss, leaf.grad
    return both


def _jax(what, x, t):
    jnp = JAX.numpy
    jx, jt = jnp.asarray(x), jnp.asarray(t)

    def loss(z):
        return jnp.mean(JAX.nn.logsumexp(z, axis=-1) - jnp.take_along_axis(z, jt[:, None], axis=-1)[:, 0])
    f = JAX.jit(loss if what == "forward" else JAX.value_and_grad(loss))
    JAX.block_until_ready(f(jx))                 # compiled here, not in the first timed call
    return lambda: JAX.block_until_ready(f(jx))


def _read(what, x, t):
    return lambda: np.sum(x)


IMPLS = {"fastact": _fastact, "numpy": _numpy, "torch": _torch, "jax": _jax, "np.sum": _read}
PEERS = {"torch": TORCH, "jax": JAX}           # optional: left out where not installed


def _impls(jax=True):
    return [k for k in IMPLS if PEERS.get(k, True) is not None and (jax or k != "jax")]


@pytest.mark.parametrize("impl", _impls())
@pytest.mark.parametrize("what", ("forward", "forward+backward"))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_cross_entropy(benchmark, shape, kind, what, impl):
    x, t = _data(SHAPES[shape], kind)
    if TORCH is not None:
        TORCH.set_num_threads(1)
    fa.set_num_threads(1)
    benchmark.group = f"cross_entropy {what} float32 {shape} {kind}"
    benchmark(IMPLS[impl](what, x, t))


def quick(shapes, rounds=15, with_jax=False):
    """Interleaved medians in one process: per round, each contender once, in turn."""
    if with_jax and JAX is None:
        sys.exit("--jax: jax is not installed (pip install \"jax[cpu]\")")
    fa.set_num_threads(1)
    if TORCH is not None:
        TORCH.set_num_threads(1)
    jcol = f" {'jax/fa':>9s}" if with_jax else ""
    print(f"{'case':42s} {'fastact us':>11s} {'torch/fa':>9s}{jcol} {'numpy/fa':>9s} {'fa/np.sum':>10s}   "
          f"{'min: fa us':>10s} {'torch/fa':>9s}{jcol} {'numpy/fa':>9s} {'fa/np.sum':>10s}"
          f"  (float32, median, then minimum, of {rounds} interleaved rounds, one thread)")
    for name, shape in shapes.items():
        for kind in KINDS:
            x, t = _data(shape, kind)
            for what in ("forward", "forward+backward"):
                impls = {k: IMPLS[k](what, x, t) for k in _impls(with_jax)}
                times = interleaved_rounds(impls, rounds)
                cols = []
                for stat in (np.median, np.min):   # the minimum: least disturbed by other processes
                    med = {k: float(stat(v)) for k, v in times.items()}
                    f = med["fastact"]
                    cols.append(f"{f * 1e6:11.1f} {med.get('torch', float('nan')) / f:8.2f}x "
                                + (f"{med['jax'] / f:8.2f}x " if with_jax else "")
                                + f"{med['numpy'] / f:8.2f}x {f / med['np.sum']:9.2f}x")
                print(f"{name + ' ' + kind + ' ' + what:42s}" + "  ".join(cols))


if __name__ == "__main__":
    exit_on_help(__doc__)
    if "--quick" in sys.argv[1:]:
        quick({**SHAPES, **(HUGE if "--huge" in sys.argv[1:] else {})},
              rounds=5 if "--huge" in sys.argv[1:] else 15, with_jax="--jax" in sys.argv[1:])
    else:
        sys.exit(__doc__)
