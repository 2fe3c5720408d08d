"""Max error of the float32 gradient kernels over EVERY float32 of a range, g = 1, on each
kernel variant, against the float64 kernel of the same gradient (within ~2 float64 ULP of
mpmath, so exact at float32 precision outside the registry's `ill` intervals, which are
left out as in tests/test_gradients.py).

    PYTHONPATH=. python tools/fit/grad_f32_sweep.py silu_grad [--lo -90 --hi 90] [--step 1]

--step k takes every k-th float32 bit pattern.  Prints, per variant, the max ULP error and
where it is, and how many inputs exceed 2 and 3 ULP.
"""
import argparse

import numpy as np

import fastact as fa
from fastact._registry import BY_KERNEL, GRAD_BY_KERNEL


def floats_between(lo, hi, step):
    """Every step-th float32 in [lo, hi] (lo < 0 < hi allowed)."""
    def pos(a, b):                                   # 0 <= a < b
        u = np.arange(np.float32(a).view(np.uint32), np.float32(b).view(np.uint32) + 1, step, dtype=np.uint32)
        return u.view(np.float32)
    parts = []
    if lo < 0:
        parts.append(-pos(max(0.0, -hi) if hi < 0 else 0.0, -lo))
    if hi > 0:
        parts.append(pos(max(0.0, lo), hi))
    return np.concatenate(parts)


def ulp_error(y, ref):
    with np.errstate(over="ignore"):
        r32 = ref.astype(np.float32)
    spacing = np.maximum(np.spacing(np.abs(r32)).astype(np.float64), 2.0 ** -149)
    with np.errstate(invalid="ignore"):
        err = np.abs(y.astype(np.float64) - ref) / spacing
    err[(y.astype(np.float64) == ref) | (np.isnan(y) & np.isnan(ref))] = 0
    big = np.isinf(r32)                              # the reference rounds to +-inf
    err[big] = np.where(y[big] == r32[big], 0.0, np.inf)
    return err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--lo", type=float, default=-100.0)
    ap.add_argument("--hi", type=float, default=100.0)
    ap.add_argument("--step", type=int, default=1)
    ap.add_argument("--params", type=float, nargs="*", default=None)
    a = ap.parse_args()
    entry = GRAD_BY_KERNEL[a.name]
    fwd = BY_KERNEL[entry.forward]
    kw = {fwd.select[0]: fwd.select[1]} if fwd.select else {}
    f = getattr(fa, entry.name)
    params = tuple(a.params) if a.params is not None else fwd.test_params[0]
    x = floats_between(max(a.lo, fwd.domain[0]), min(a.hi, fwd.domain[1]), a.step)
    keep = np.ones(x.shape, bool)
    for lo, hi in entry.ill:
        keep &= ~((x >= lo) & (x <= hi))
    x = x[keep]
    before = fa.simd_info()["current"]
    try:
        ref = f(x.astype(np.float64), None, *params, **kw)
        for isa in fa.simd_info()["available"]:
            fa.set_isa(isa)
            err = ulp_error(f(x, None, *params, **kw), ref)
            w = int(np.argmax(err))
            print(f"{a.name} {params} {isa:7s} max {err[w]:.3f} ULP at x={x[w]!r}  "
                  f"(n={x.size}; >2 ULP: {(err > 2).sum()}, >3: {(err > 3).sum()})")
    finally:
        fa.set_isa(before)


if __name__ == "__main__":
    main()
