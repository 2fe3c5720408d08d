"""Measured accuracy of binary_cross_entropy_with_logits and its gradient (the figures quoted in
src_c/losses/fa_bce.h and docs/SPEC.md section 9), on every kernel variant.

    PYTHONPATH=. python tools/bce_accuracy.py            # mpmath sweep, then the dense random check

1. mpmath (50 digits, registry BCE_LOSSES references): 6000 x (every binade of both signs,
   +-inf, N(0, 5)) x 8 targets x pos_weight absent / 0.3 / 4; the loss in ULPs, the gradient in
   ULPs of its larger term ((1 - y) sigmoid(x) or pw y sigmoid(-x)).
2. 2^21 random float32 entries (x ~ N(0, 9), y uniform, pos_weight 0.3 / 2.7) against the
   textbook formula in float64 (exact enough to measure float32 ULPs).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import ulp  # noqa: E402

import fastact as fa  # noqa: E402
from fastact._registry import BCE_LOSSES  # noqa: E402

BCE = BCE_LOSSES[0]
TARGETS = (0.0, 1.0, 0.5, 0.1, 0.9, 1e-3, 0.999, 0.37)


def grad_units(xs, t, pw, dtype):
    """The ULP of the gradient's larger term at each x."""
    p, emin, _ = ulp.fmt(dtype)
    with np.errstate(over="ignore"):
        sig = 1 / (1 + np.exp(-np.asarray(xs, np.float64)))
    _, e = np.frexp(np.maximum((1 - t) * sig, pw * t * (1 - sig)))
    return np.ldexp(1.0, np.maximum(e - p, emin - p + 1))


def mpmath_sweep():
    for dtype in (np.float32, np.float64):
        xs = np.concatenate([ulp.sweep(dtype, n=3000, seed=11),
                             np.random.default_rng(1).normal(0, 5, 3000).astype(dtype)])
        for isa in fa.simd_info()["available"]:
            fa.set_isa(isa)
            worst_loss = worst_grad = 0.0
            for pw in (None, 0.3, 4.0):
                for t in TARGETS:
                    tv, pv = float(dtype(t)), 1.0 if pw is None else float(dtype(pw))
                    y = np.full(xs.shape, t, dtype)
                    pwa = None if pw is None else dtype(pw)
                    got = fa.binary_cross_entropy_with_logits(xs, y, pos_weight=pwa, reduction="none")
                    hi, lo = ulp.reference(BCE.reference, xs, tv, pv)
                    worst_loss = max(worst_loss, float(ulp.ulp_errors(got, hi, lo, dtype).max()))
                    g = fa.binary_cross_entropy_with_logits_grad(xs, y, pos_weight=pwa, reduction="none")
                    hi, lo = ulp.reference(BCE.grad_reference, xs, tv, pv)
                    err = np.abs((g.astype(np.float64) - hi) - lo) / grad_units(xs, tv, pv, dtype)
                    worst_grad = max(worst_grad, float(err.max()))
            print(f"{np.dtype(dtype).name:8s} {isa:7s} loss max {worst_loss:.2f} ULP   "
                  f"gradient max {worst_grad:.2f} ULP of its larger term", flush=True)
    fa.set_isa("best")


def dense_float32(n=2 ** 21):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    y = rng.uniform(0, 1, n).astype(np.float32)
    X, Y = x.astype(np.float64), y.astype(np.float64)
    for pw in (None, np.float32(0.3), np.float32(2.7)):
        P = 1.0 if pw is None else float(pw)
        got = fa.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction="none").astype(np.float64)
        ref = P * Y * np.logaddexp(0, -X) + (1 - Y) * np.logaddexp(0, X)
        _, e = np.frexp(ref)
        loss = np.abs(got - ref) / np.ldexp(1.0, e - 24)
        g = fa.binary_cross_entropy_with_logits_grad(x, y, pos_weight=pw, reduction="none").astype(np.float64)
        s = 1 / (1 + np.exp(-X))
        grad = np.abs(g - ((1 - Y) * s - P * Y * (1 - s))) / grad_units(X, Y, P, np.float32)
        print(f"float32 dense, pos_weight {pw}: loss max {loss.max():.2f} ULP, gradient max {grad.max():.2f} ULP "
              f"of its larger term ({fa.simd_info()['current']})")


if __name__ == "__main__":
    mpmath_sweep()
    dense_float32()
