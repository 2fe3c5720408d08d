"""float32 gradient of gelu(x, approximate='tanh'): fastact's and JAX's (jitted vjp) against mpmath.

    PYTHONPATH=. python tools/jax_gelu_tanh_grad_ulp.py      (needs jax and mpmath)

18,000 float32 inputs: uniform in +-12 and in +-3, and magnitudes log-uniform over
[e^-20, e^3] of both signs (seed 0).  Reference: d/dx [x/2 (1 + tanh(u))], u = sqrt(2/pi)
(x + 0.044715 x^3), at 100 digits (1 + tanh(u) cancels for u << 0: 40 digits are not
enough at x = -10).  Errors in ULPs of float32 at the exact value; exact values below the
smallest normal count as exact when within one smallest normal (docs/SPEC.md section 6).
README.md ("Speed, gradients") quotes its output.
"""
import os
import sys

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import mpmath  # noqa: E402
import numpy as np  # noqa: E402

import fastact as fa  # noqa: E402


def reference(x):
    mpmath.mp.dps = 100
    c, a = mpmath.sqrt(2 / mpmath.pi), mpmath.mpf("0.044715")
    out = []
    for v in x:
        v = mpmath.mpf(float(v))
        t = mpmath.tanh(c * (v + a * v ** 3))
        out.append(float(0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * a * v * v)))
    return np.array(out)


def ulps(y, ref):
    _, e = np.frexp(np.abs(ref))
    spacing = np.ldexp(1.0, np.maximum(e - 24, -149))
    diff = np.abs(y.astype(np.float64) - ref)
    err = diff / spacing
    err[(np.abs(ref) < 2.0 ** -126) & (diff <= 2.0 ** -126)] = 0
    return err


def main():
    try:
        import jax
    except ImportError:
        sys.exit("needs jax (pip install \"jax[cpu]\")")
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-12, 12, 6000), rng.uniform(-3, 3, 6000),
                        -np.exp(rng.uniform(-20, 3, 3000)), np.exp(rng.uniform(-20, 3, 3000))]).astype(np.float32)
    g = np.ones_like(x)
    ref = reference(x)
    back = jax.jit(lambda t, c: jax.vjp(lambda z: jax.nn.gelu(z, approximate=True), t)[1](c)[0])
    results = {"fastact": fa.gelu_grad(x, g, approximate="tanh"),
               f"jax {jax.__version__}": np.asarray(back(jax.numpy.asarray(x), jax.numpy.asarray(g)))}
    for name, y in results.items():
        err = ulps(y, ref)
        i = int(np.argmax(err))
        print(f"{name:12s} max {err.max():.3g} ULP at x = {x[i]!r} (got {y[i]!r}, exact {ref[i]:.8e}); "
              f"median {np.median(err):.2f}; over 8 ULP: {np.mean(err > 8) * 100:.1f}% of {x.size}")


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        sys.exit(0)
    main()
