"""Max error in ULPs of every element-wise kernel, on every kernel variant, against mpmath.

    PYTHONPATH=. python tools/ulp_report.py [names...] [--dtype float32] [--isa avx2]
                                            [--density 4] [--seed 0] [--markdown]

Inputs: fastact._ulp.binade_sweep -- every binade of the dtype probed with the 50-digit
reference, both signs (and 1 - p for logit), and in every binade where the output is not
settled (not yet 0, +-inf, a constant or a multiple of x) random mantissas plus the binade's
top edge, more in exponential tails -- for every parameter set the registry lists.

  names        registry kernels to measure (default: all), e.g. gelu_tanh softplus
  --dtype      float16, float32 and/or float64 (repeatable; default float32 and float64)
  --isa        kernel variants (repeatable; default every variant this CPU runs)
  --density    random points per unsettled binade, as a multiple of the test suite's
               (tests/activations.py: 48 float32, 16 float64); 1 is the suite's sweep,
               4 the README's; settled binades get `density` points (float64: edges only at 1)
  --seed       the random mantissas' seed (the suite uses 0)
  --markdown   also print the README's table: per kernel and dtype, the max over parameter
               sets and variants

Prints one line per (kernel, params, dtype, variant): the max error in ULPs (docs/SPEC.md section 6:
subnormal results within one smallest normal count as exact), the input where it occurs,
the largest excess of a subnormal result over one correct rounding (in subnormal spacings,
0 = rounded once), the number of inputs, and the registry's bound.  Exit status 1 if any
bound is exceeded.
"""
import argparse
import sys
import time

import numpy as np

import fastact as fa
from fastact import _ulp
from fastact._registry import ACTIVATIONS

# the test suite's sweep (tests/activations.py ACCURACY_DENSITY): per unsettled binade, per settled one
SUITE_DENSITY = {"float16": (16, 1), "float32": (48, 1), "float64": (16, 0)}


def call(entry, x, params):
    kwargs = {p.name: v for p, v in zip(entry.params, params)}
    if entry.select:
        kwargs[entry.select[0]] = entry.select[1]
    with np.errstate(all="ignore"):
        return getattr(fa, entry.name)(x, **kwargs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="registry kernels (default: all)")
    ap.add_argument("--dtype", action="append", choices=sorted(SUITE_DENSITY))
    ap.add_argument("--isa", action="append", help="kernel variant (default: every one available)")
    ap.add_argument("--density", type=int, default=1, help="multiple of the test suite's points per binade")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--markdown", action="store_true", help="print the README table at the end")
    args = ap.parse_args()
    unknown = set(args.names) - {e.kernel for e in ACTIVATIONS}
    if unknown:
        ap.error(f"unknown kernels {sorted(unknown)}; choose from {[e.kernel for e in ACTIVATIONS]}")
    dtypes = args.dtype or ["float32", "float64"]
    isas = args.isa or fa.simd_info()["available"]
    before = fa.simd_info()["current"]
    all_ok = True
    table = {}
    t0 = time.perf_counter()
    for entry in ACTIVATIONS:
        if args.names and entry.kernel not in args.names:
            continue
        for params in entry.test_params:
            for dt in dtypes:
                per, settled = SUITE_DENSITY[dt]
                settled_points = settled if args.density == 1 else args.density
                x = _ulp.binade_sweep(entry.reference, params, dt, entry.domain, per * args.density,
                                      settled_points, seed=args.seed)
                hi, lo = _ulp.reference(entry.reference, x, *params)
                for isa in isas:
                    fa.set_isa(isa)
                    y = call(entry, x, params)
                    err = _ulp.ulp_errors(y, hi, lo, dt)
                    sub = _ulp.subnormal_excess(y, hi, lo, dt, entry.ulp)
                    i = int(np.argmax(err))
                    ok = err[i] <= entry.ulp * (1 + 1e-9)
                    all_ok &= ok
                    key = (entry.kernel, dt)
                    if err[i] > table.get(key, (-1.0,))[0]:
                        table[key] = (float(err[i]), x[i], isa, params)
                    print(f"{entry.kernel:12s} {str(params):13s} {dt:8s} {isa:7s} max {err[i]:7.3f} ULP "
                          f"at x={float(x[i])!r:<24} subnormal excess {sub.max():5.3g}  n={x.size:6d} "
                          f"bound {entry.ulp:g} {'ok' if ok else 'FAIL'}", flush=True)
    fa.set_isa(before)
    print(f"# {time.perf_counter() - t0:.0f} s; variants {', '.join(isas)}; density {args.density}, seed {args.seed}")
    if args.markdown:
        print()
        print("| kernel | " + " | ".join(f"{dt} max ULP (at x)" for dt in dtypes) + " | bound |")
        print("|---|" + "---|" * len(dtypes) + "---|")
        for entry in ACTIVATIONS:
            if (entry.kernel, dtypes[0]) not in table:
                continue
            cells = []
            for dt in dtypes:
                e, x, isa, params = table[(entry.kernel, dt)]
                cells.append(f"{e:.2f} ({float(x):.6g})")
            print(f"| {entry.kernel} | " + " | ".join(cells) + f" | {entry.ulp:g} |")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
