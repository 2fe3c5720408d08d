"""Near-root polynomials of the float32 mish gradient (the table fa_mish_grad_root_c_f32 in
fa_softplus.h, evaluated by fa_grad_near_root_f32 in src_c/kernels/fa_map.h); gelu's is kept
for comparison (its kernel now takes the piecewise tables of fit_gelu_grad_lut_f32.py).

f'(x) has a simple root x0 (gelu: -0.75179, mish: -1.19240) where the general formula's
bracket cancels.  Near it the kernels take f'(x) = d R(u): x0 = x0h + x0l (x0h the float32
nearest x0), u = x - x0h (exact by Sterbenz for x in [2 x0h, x0h/2], the interval used),
d = u - x0l (one rounding), R a polynomial in u fitted relative to f'(x)/(u - x0l) (Lawson
minimax on Chebyshev nodes against mpmath; the constant term as a float32 pair c0h + c0l
(R(0) = c0: its rounding would show at the root), the others rounded to float32 one at a
time from c1, the rest refitted; evaluated as c0h + (c0l + u Q(u))).  Prints x0h, x0l, the
coefficients (C, ascending), the fit's error with the rounded coefficients on the nodes, and
the error of the float32 evaluation d R(u) (Horner with FMA emulated in double) over every
97th float32 of the interval against mpmath.  --lo / --hi try another interval (outside
Sterbenz's range u is rounded once, which is harmless away from the root).

    python tools/fit/fit_grad_root_f32.py gelu      # degree 10: 2^-31.6, ~10 s (no table to compare)
    python tools/fit/fit_grad_root_f32.py mish      # degree 11: 2^-29.1
"""
import argparse

import mpmath as mp
import numpy as np

from _common import c_array, compare, fit_f32_pair_head, header, log2s

mp.mp.dps = 40


def gelu_grad(x):
    return mp.ncdf(x) + x * mp.npdf(x)


def mish_grad(x):
    t = mp.tanh(mp.log1p(mp.exp(x)))
    return t + x * (1 - t * t) / (1 + mp.exp(-x))


FUNCS = {"gelu": (gelu_grad, -0.75, 10), "mish": (mish_grad, -1.19, 11)}
HEADERS = {"mish": "fa_softplus.h"}     # gelu's float32 gradient uses fit_gelu_grad_lut_f32.py now


def fit(name, degree, lo=None, hi=None, nodes=2000):
    f, guess, _ = FUNCS[name]
    x0 = mp.findroot(f, guess)
    x0h = float(np.float32(float(x0)))
    x0l = float(x0 - x0h)
    lo = 2 * x0h if lo is None else lo          # default: Sterbenz, x - x0h exact
    hi = x0h / 2 if hi is None else hi
    us = [(lo + hi) / 2 - x0h + (hi - lo) / 2 * mp.cos(mp.pi * (k + 0.5) / nodes) for k in range(nodes)]
    target = np.array([float(f(x0h + u) / (u - x0l)) for u in us])
    uf = np.array([float(u) for u in us])
    A = np.vander(uf, degree + 1, increasing=True)
    w = 1 / np.abs(target)
    c, _ = fit_f32_pair_head(A, target, w)
    err = float(np.max(np.abs(A[:, 1:] @ c[2:] + c[0] + c[1] - target) * w))
    return x0, x0h, x0l, lo, hi, c, err


def fma32(a, b, c):
    """float32 a*b + c emulated in double (the product exact, one rounding of the double sum
    then to float32: a double rounding, rarely one float32 ulp off a true FMA)"""
    return (a.astype(np.float64) * b.astype(np.float64) + np.float64(c)).astype(np.float32)


def horner_f32(c, u):
    """R(u) = c0h + (c0l + u Q(u)), Q Horner in float32 with FMA, c = (c0h, c0l, c1, ...)."""
    y = np.full(u.shape, np.float32(c[-1]))
    for ck in reversed(c[2:-1]):
        y = fma32(y, u, np.float32(ck))
    return (np.float32(c[0]) + fma32(y, u, np.float32(c[1]))).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name", choices=sorted(FUNCS))
    ap.add_argument("--degree", type=int, default=None)
    ap.add_argument("--lo", type=float, default=None)
    ap.add_argument("--hi", type=float, default=None)
    a = ap.parse_args()
    degree = a.degree or FUNCS[a.name][2]
    x0, x0h, x0l, lo, hi, c, err = fit(a.name, degree, a.lo, a.hi)
    f = FUNCS[a.name][0]
    print(f"{a.name}'s root x0 = {mp.nstr(x0, 20)}: x0h = {float(x0h).hex()}f, x0l = {float(np.float32(x0l)).hex()}f")
    print(f"interval x in [{lo!r}, {hi!r}], degree {degree}; fit (rounded coefficients, on the nodes): "
          f"{log2s(mp.mpf(err))} relative")
    print("coefficients (c0h, c0l, c1, ...):", ", ".join(float(np.float32(v)).hex() + "f" for v in c))
    if a.lo is None and a.hi is None and degree == FUNCS[a.name][2] and a.name in HEADERS:
        compare("fa_%s_grad_root_c_f32" % a.name, c_array(header(HEADERS[a.name]), "fa_%s_grad_root_c_f32" % a.name),
                list(c), f32=True)
    # every float32 of the interval, through the float32 evaluation d R(u)
    b = np.arange(np.float32(-hi).view(np.uint32), np.float32(-lo).view(np.uint32) + 1, 97, dtype=np.uint32)
    x = -b.view(np.float32)
    u = (x.astype(np.float64) - x0h).astype(np.float32)         # rounded once outside Sterbenz's range
    d = (u - np.float32(x0l)).astype(np.float32)
    y = (d * horner_f32(c, u)).astype(np.float32)
    ref = np.array([float(f(mp.mpf(float(v)))) for v in x])
    spacing = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    e = np.abs(y - ref) / spacing
    k = int(np.argmax(e))
    print(f"float32 d R(u) over every 97th float32 of the interval ({x.size}): max {e[k]:.2f} ULP at x = {x[k]!r}")


if __name__ == "__main__":
    main()
