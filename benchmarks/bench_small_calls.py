"""Per-call cost on a small batch: the losses, the reductions and their gradients on (32, 10)
float32 (a minibatch of a 10-class classifier, where a training step is mostly per-call
overhead), fastact against the same operation in torch (single thread).

    PYTHONPATH=. python -m pytest benchmarks/bench_small_calls.py --benchmark-enable
    PYTHONPATH=. python benchmarks/bench_small_calls.py             # interleaved medians, us

One group per operation.  fastact's common calls (plain C-contiguous float32/float64
operands, default options) go straight from the NumPy C-API to the kernel (fastact/_core.pyx,
_ce_core.pxi, _bce_core.pxi: the fast paths; tests/test_fast_paths.py checks they agree bit
for bit with the general path); torch's figures include its dispatcher, as a user pays it.
"""

import numpy as np
import pytest

import fastact as fa

from conftest import exit_on_help, interleaved_rounds, torch_or_none

TORCH = torch_or_none()
SHAPE = (32, 10)


def _operands(shape=SHAPE, dtype=np.float32):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    return dict(x=x, g=rng.standard_normal(shape).astype(dtype), y=fa.softmax(x, axis=-1),
                ly=fa.log_softmax(x, axis=-1), gr=rng.standard_normal(shape[0]).astype(dtype),
                t=rng.integers(0, shape[1], shape[0]), p=rng.uniform(0, 1, shape).astype(dtype))


def cases():
    """{operation: (fastact callable, torch callable or None)}."""
    o = _operands()
    x, g, y, ly, gr, t, p = (o[k] for k in ("x", "g", "y", "ly", "gr", "t", "p"))
    fast = {
        "softmax": lambda: fa.softmax(x, axis=-1),
        "log_softmax": lambda: fa.log_softmax(x, axis=-1),
        "logsumexp": lambda: fa.logsumexp(x, axis=-1),
        "softmax_grad": lambda: fa.softmax_grad(y, g, axis=-1),
        "log_softmax_grad": lambda: fa.log_softmax_grad(ly, g, axis=-1),
        "logsumexp_grad": lambda: fa.logsumexp_grad(x, gr, axis=-1),
        "cross_entropy": lambda: fa.cross_entropy(x, t),
        "cross_entropy + grad": lambda: fa.cross_entropy(x, t, return_grad=True),
        "nll_loss": lambda: fa.nll_loss(ly, t),
        "bce_with_logits": lambda: fa.binary_cross_entropy_with_logits(x, p),
        "bce_with_logits_grad": lambda: fa.binary_cross_entropy_with_logits_grad(x, p),
        "one_hot": lambda: fa.one_hot(t, SHAPE[1], dtype=np.float32),
        "relu_grad": lambda: fa.relu_grad(x, g),
    }
    peer = {k: None for k in fast}
    if TORCH is not None:
        F = TORCH.nn.functional
        tx, tg, ty, tly, tgr, tt, tp = (TORCH.from_numpy(v) for v in (x, g, y, ly, gr, t, p))
        txg = tx.clone().requires_grad_()

        def ce_and_grad():
            loss = F.cross_entropy(txg, tt)
            return loss, TORCH.autograd.grad(loss, txg)

        lse = TORCH.logsumexp(txg, -1)
        peer.update({
            "softmax": lambda: TORCH.softmax(tx, -1),
            "log_softmax": lambda: TORCH.log_softmax(tx, -1),
            "logsumexp": lambda: TORCH.logsumexp(tx, -1),
            "softmax_grad": lambda: TORCH._softmax_backward_data(tg, ty, 1, ty.dtype),
            "log_softmax_grad": lambda: TORCH._log_softmax_backward_data(tg, tly, 1, tly.dtype),
            "logsumexp_grad": lambda: TORCH.autograd.grad(lse, txg, tgr, retain_graph=True),
            "cross_entropy": lambda: F.cross_entropy(tx, tt),
            "cross_entropy + grad": ce_and_grad,
            "nll_loss": lambda: F.nll_loss(tly, tt),
            "bce_with_logits": lambda: F.binary_cross_entropy_with_logits(tx, tp),
            "bce_with_logits_grad": None,
            "one_hot": lambda: F.one_hot(tt, SHAPE[1]).to(TORCH.float32),
            "relu_grad": lambda: TORCH.ops.aten.threshold_backward(tg, tx, 0),
        })
    return {k: (fast[k], peer[k]) for k in fast}


CASES = cases()


@pytest.mark.parametrize("impl", ["fastact", "torch"])
@pytest.mark.parametrize("op", list(CASES))
def test_small_call(benchmark, op, impl):
    fn = CASES[op][0 if impl == "fastact" else 1]
    if fn is None:
        pytest.skip(f"no {impl} peer for {op}" if TORCH is not None else "torch is not installed")
    benchmark.group = f"small call {op} {SHAPE} float32"
    benchmark(fn)


def quick(rounds=2001):
    print(f"{'operation':22s} {'fastact us':>10s} {'torch us':>9s} {'torch / fastact':>16s}   "
          f"({SHAPE} float32, medians of {rounds} interleaved calls, one thread)")
    for op, (fast, peer) in CASES.items():
        impls = {"fastact": fast} if peer is None else {"fastact": fast, "torch": peer}
        times = interleaved_rounds(impls, rounds)
        med = {k: float(np.median(v)) * 1e6 for k, v in times.items()}
        t = med.get("torch", float("nan"))
        print(f"{op:22s} {med['fastact']:10.2f} {t:9.2f} {t / med['fastact']:15.1f}x")


if __name__ == "__main__":
    exit_on_help(__doc__)
    if TORCH is not None:
        TORCH.set_num_threads(1)
    fa.set_num_threads(1)
    quick()
