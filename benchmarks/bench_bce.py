"""binary_cross_entropy_with_logits (forward, 'mean') and its gradient: fastact vs torch (single
thread) and the NumPy formula (the registry's BCE_LOSSES[0].numpy, torch's own formula).

    PYTHONPATH=. python -m pytest benchmarks/bench_bce.py --benchmark-enable
    PYTHONPATH=. python benchmarks/bench_bce.py --quick       # interleaved ratios
    PYTHONPATH=. python benchmarks/bench_bce.py --threads     # 2 threads vs 1 by size

Cases: 2^20 float32 logits (soft targets, no pos_weight), and (4096, 1000) float32 with a
pos_weight of 1000 classes.  Logits N(0, 3), targets uniform in [0, 1].
- forward: the 'mean' loss (fastact; torch F.binary_cross_entropy_with_logits; numpy formula + mean);
- backward: the gradient of the 'mean' loss (fastact binary_cross_entropy_with_logits_grad; torch
  autograd.grad on a forward built once outside the timing; numpy (c sigmoid(x) - pw y) / N).
"""
import sys
import time

import numpy as np
import pytest

import fastact as fa
from fastact._registry import BCE_LOSSES

try:
    from conftest import exit_on_help, interleaved_rounds, torch_or_none
except ImportError:                          # run as a script from the repository root
    sys.path.insert(0, "benchmarks")
    from conftest import exit_on_help, interleaved_rounds, torch_or_none

TORCH = torch_or_none()
BCE = BCE_LOSSES[0]
CASES = {"n2^20": ((2 ** 20,), False), "4096x1000+pos_weight": ((4096, 1000), True)}


def _data(case, dtype="float32", seed=0):
    shape, with_pw = CASES[case]
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    y = rng.uniform(0, 1, shape).astype(dtype)
    pw = rng.uniform(0.5, 4, shape[-1]).astype(dtype) if with_pw else None
    return x, y, pw


def _fastact(what, x, y, pw):
    if what == "forward":
        return lambda: fa.binary_cross_entropy_with_logits(x, y, pos_weight=pw)
    return lambda: fa.binary_cross_entropy_with_logits_grad(x, y, pos_weight=pw)


def _numpy(what, x, y, pw):
    p = 1 if pw is None else pw
    if what == "forward":
        return lambda: BCE.numpy(np, x, y, p).mean()

    def grad():
        s = 1 / (1 + np.exp(-x))
        return ((1 + (p - 1) * y) * s - p * y) / x.size
    return grad


def _torch(what, x, y, pw):
    F = TORCH.nn.functional
    tx, ty = TORCH.from_numpy(x), TORCH.from_numpy(y)
    tpw = None if pw is None else TORCH.from_numpy(pw)
    if what == "forward":
        return lambda: F.binary_cross_entropy_with_logits(tx, ty, pos_weight=tpw)
    tx = tx.clone().requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(tx, ty, pos_weight=tpw)
    return lambda: TORCH.autograd.grad(loss, tx, retain_graph=True)


IMPLS = {"fastact": _fastact, "numpy": _numpy, "torch": _torch}


def _impls():
    return [k for k in IMPLS if k != "torch" or TORCH is not None]


@pytest.mark.parametrize("impl", _impls())
@pytest.mark.parametrize("what", ("forward", "backward"))
@pytest.mark.parametrize("case", list(CASES))
def test_bce(benchmark, case, what, impl):
    x, y, pw = _data(case)
    benchmark.group = f"bce_with_logits {what} float32 {case}"
    with np.errstate(all="ignore"):
        benchmark(IMPLS[impl](what, x, y, pw))


def quick(rounds=21):
    """Interleaved medians in one process: per round, each contender once, in turn."""
    fa.set_num_threads(1)
    print(f"{'case':34s} {'fastact us':>11s} {'numpy us':>10s} {'torch us':>10s} {'torch/fa':>9s} {'numpy/fa':>9s}"
          f"  (float32, median of {rounds} interleaved rounds, one thread)")
    for case in CASES:
        x, y, pw = _data(case)
        for what in ("forward", "backward"):
            impls = {k: IMPLS[k](what, x, y, pw) for k in _impls()}
            times = interleaved_rounds(impls, rounds)
            med = {k: float(np.median(v)) for k, v in times.items()}
            print(f"{case + ' ' + what:34s} {med['fastact'] * 1e6:11.1f} {med['numpy'] * 1e6:10.1f} "
                  f"{med.get('torch', float('nan')) * 1e6:10.1f} {med.get('torch', float('nan')) / med['fastact']:8.2f}x "
                  f"{med['numpy'] / med['fastact']:8.2f}x")


def threads(rounds=41):
    """2 threads against 1 (interleaved medians) by size: where the loss kernels start to split
    (src_c/losses/fa_loss_run.h)."""
    rng = np.random.default_rng(0)
    before = fa.get_num_threads()
    print("entries   loss 1t/2t us (ratio)   gradient 1t/2t us (ratio)   one_hot x100 float32 1t/2t us (ratio)")
    try:
        for n in (2 ** 14, 2 ** 15, 2 ** 16, 2 ** 18, 2 ** 20):
            x = (rng.standard_normal(n) * 3).astype(np.float32)
            y = rng.uniform(0, 1, n).astype(np.float32)
            labels = np.arange(n) % 100
            fns = (lambda: fa.binary_cross_entropy_with_logits(x, y),
                   lambda: fa.binary_cross_entropy_with_logits_grad(x, y),
                   lambda: fa.one_hot(labels, 100, np.float32))
            times = {(f, k): [] for f in range(3) for k in (1, 2)}
            for _ in range(rounds):
                for f, fn in enumerate(fns):
                    for k in (1, 2):
                        fa.set_num_threads(k)
                        t0 = time.perf_counter()
                        fn()
                        times[f, k].append(time.perf_counter() - t0)
            med = {key: float(np.median(v)) * 1e6 for key, v in times.items()}
            print(f"{n:8d}  " + "   ".join(f"{med[f, 1]:8.0f}/{med[f, 2]:<8.0f} ({med[f, 1] / med[f, 2]:.2f}x)"
                                          for f in range(3)))
    finally:
        fa.set_num_threads(before)


if __name__ == "__main__":
    exit_on_help(__doc__)
    if "--quick" in sys.argv[1:]:
        quick()
    elif "--threads" in sys.argv[1:]:
        threads()
    else:
        sys.exit(__doc__)
