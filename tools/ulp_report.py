"""Max error in ULPs of every element-wise kernel, on every kernel variant, against mpmath.

    PYTHONPATH=. python tools/ulp_report.py [--dtype float32] [--isa avx2] [--n 4000] [names...]

Inputs: tests/ulp.py `sweep` over the registry entry's domain (every binade of the dtype,
both signs, a dense part near 0, random bit patterns), each parameter set the registry lists.
Prints one line per (function, params, dtype, variant): max ULP, the input where it occurs,
and the registry's bound.  References are computed once per (function, params, dtype).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import ulp  # noqa: E402

import fastact as fa  # noqa: E402
from fastact._registry import ACTIVATIONS  # noqa: E402


def call(entry, x, params):
    kwargs = {p.name: v for p, v in zip(entry.params, params)}
    if entry.select:
        kwargs[entry.select[0]] = entry.select[1]
    return getattr(fa, entry.name)(x, **kwargs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--dtype", action="append")
    ap.add_argument("--isa", action="append")
    ap.add_argument("--n", type=int, default=4000)
    args = ap.parse_args()
    dtypes = args.dtype or ["float32", "float64"]
    isas = args.isa or fa.simd_info()["available"]
    before = fa.simd_info()["current"]
    worst = True
    for entry in ACTIVATIONS:
        if args.names and entry.kernel not in args.names:
            continue
        for params in entry.test_params:
            for dt in dtypes:
                x = ulp.sweep(dt, *entry.domain, n=args.n)
                hi, lo = ulp.reference(entry.reference, x, *params)
                for isa in isas:
                    fa.set_isa(isa)
                    err = ulp.ulp_errors(call(entry, x, params), hi, lo, dt)
                    i = int(np.argmax(err))
                    ok = err[i] <= entry.ulp
                    worst &= ok
                    print(f"{entry.kernel:12s} {str(params):14s} {dt:8s} {isa:7s} max {err[i]:10.3g} ULP "
                          f"at x={x[i]!r:24} bound {entry.ulp:g} {'ok' if ok else 'FAIL'}", flush=True)
    fa.set_isa(before)
    return 0 if worst else 1


if __name__ == "__main__":
    sys.exit(main())
