"""float32 gradient of gelu(x, approximate='tanh'): fastact's and JAX's (jitted vjp) against mpmath.

    PYTHONPATH=. python tools/jax_gelu_tanh_grad_ulp.py      (needs jax and mpmath)

18,000 float32 inputs: uniform in +-12 and in +-3, and magnitudes log-uniform over
[e^-20, e^3] of both signs (seed 0).  Reference and errors are the test suite's: the
registry's gelu_tanh_grad reference at fastact._ulp.DIGITS digits (fastact._ulp.reference)
and fastact._ulp.ulp_errors (ULPs of float32 at the exact value; subnormal results within
one smallest normal count as exact, docs/SPEC.md section 6).
README.md ("Speed, gradients") quotes its output.
"""
import os
import sys

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import numpy as np  # noqa: E402

import fastact as fa  # noqa: E402
from fastact import _ulp  # noqa: E402
from fastact._registry import BY_KERNEL, GRAD_BY_KERNEL, jax_peer  # noqa: E402


def main():
    try:
        import jax
    except ImportError:
        sys.exit("needs jax (pip install \"jax[cpu]\")")
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-12, 12, 6000), rng.uniform(-3, 3, 6000),
                        -np.exp(rng.uniform(-20, 3, 3000)), np.exp(rng.uniform(-20, 3, 3000))]).astype(np.float32)
    g = np.ones_like(x)
    hi, lo = _ulp.reference(GRAD_BY_KERNEL["gelu_tanh_grad"].reference, x)
    forward = jax_peer(BY_KERNEL["gelu_tanh"], jax)                   # jax.nn.gelu(approximate=True)
    back = jax.jit(lambda t, c: jax.vjp(forward, t)[1](c)[0])        # as benchmarks/bench_gradients.py
    results = {"fastact": fa.gelu_grad(x, g, approximate="tanh"),
               f"jax {jax.__version__}": np.asarray(back(jax.numpy.asarray(x), jax.numpy.asarray(g)))}
    for name, y in results.items():
        err = _ulp.ulp_errors(y, hi, lo, np.float32)
        i = int(np.argmax(err))
        print(f"{name:12s} max {err.max():.3g} ULP at x = {x[i]!r} (got {y[i]!r}, exact {hi[i]:.8e}); "
              f"median {np.median(err):.2f}; over 8 ULP: {np.mean(err > 8) * 100:.1f}% of {x.size}")


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        sys.exit(0)
    main()
