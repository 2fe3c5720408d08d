"""Time per element of element-wise functions on every kernel variant of this machine.

    python benchmarks/variants.py [name ...]      (default: sigmoid log_sigmoid tanh mish relu)

2^18 elements (in cache), into a preallocated out=, float32 and float64, median of 7 x 3
calls; for comparing variants and loop shapes (e.g. the unroll factor in kernels/fa_map.h).
"""
import sys
import timeit

import numpy as np

import fastact as fa


def main(names):
    rng = np.random.default_rng(0)
    before = fa.simd_info()["current"]
    for dt in (np.float32, np.float64):
        x = (rng.standard_normal(1 << 18) * 3).astype(dt)
        y = np.empty_like(x)
        for isa in fa.simd_info()["available"]:
            fa.set_isa(isa)
            for name in names:
                f = getattr(fa, name)
                t = np.median(timeit.repeat(lambda: f(x, out=y), number=3, repeat=7)) / 3 / x.size
                print(f"{dt.__name__:8s} {isa:7s} {name:12s} {t * 1e9:6.2f} ns/element")
    fa.set_isa(before)


if __name__ == "__main__":
    from conftest import exit_on_help        # benchmarks/ is sys.path[0] for a script
    exit_on_help(__doc__)
    main(sys.argv[1:] or ["sigmoid", "log_sigmoid", "tanh", "mish", "relu"])
