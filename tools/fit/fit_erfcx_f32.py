"""erfcx polynomials of the float32 gelu (fa_math_f32.h, fa_gelu.h).

1. fa_math_f32.h:fa_half_erfcx_gauss_f32 (FMA variants): E(a) = erfcx(a/sqrt2)/2 = t P(v),
   t = 1/(a + 2), v = alpha t - beta (alpha = 4.601504f, beta = 1.3007519f map
   a in [0, 13.3] to v in [-1, 1]), P degree 11, float32 coefficients, error relative to E.
   Re-fit: the original /tmp/s32/fit3.py (0 2 11): Lawson on 3000 Chebyshev nodes in v,
   weight 1/(E/t), then rounding to float32 one coefficient at a time from c0, refitting
   the rest.  The original took E from scipy.special.erfcx; here E comes from mpmath.
2. fa_gelu.h:fa_gelu_v_f64w (non-FMA variants, evaluated in double):
   erfcx(w) = t P(t), t = 1/(1 + 0.3 w), w = |x|/sqrt2 in [0, 10.3], P degree 10, double
   coefficients.  Re-fit: the original /tmp/m32/fiterfc2.py at c = 0.3: Lawson on 1500
   Chebyshev nodes in t, 80 iterations, unweighted error in erfcx(w)/t.
"""
import mpmath as mp
import numpy as np

from _common import (header, function_body, c_array, is_f32, horner, max_error, log2s,
                     lawson, lawson_round_f32, fmt_hex, compare)

mp.mp.dps = 30
erfcx = lambda w: mp.exp(w * w) * mp.erfc(w)

# ---- 1. float32 degree 11 -------------------------------------------------------------
src = header("fa_math_f32.h")
body = function_body(src, "fa_half_erfcx_gauss_f32")
P = c_array(body, "c")
assert "fa_set1_f32(4.601504f)" in body and "fa_set1_f32(1.3007519f)" in body
alpha, beta = float(np.float32(4.601504)), float(np.float32(1.3007519))
A_MAX = 13.3
print("fa_half_erfcx_gauss_f32: E(a) = t P(v), P degree %d, a in [0, %g]; all float32: %s"
      % (len(P) - 1, A_MAX, all(map(is_f32, P))))
E = lambda a: erfcx(a / mp.sqrt(2)) / 2


def err32(coeffs):
    def f(a):
        t = 1 / (a + 2)
        return t * horner(coeffs, alpha * t - beta) / E(a) - 1
    return f


e, at = max_error(err32(P), 0, A_MAX, n=1001)
print("  max |t P(v) - E(a)| / E(a) on [0, 13.3] = %s at a = %.4f   (kernel comment: 2^-27.9)" % (log2s(e), at))
e2, at2 = max_error(err32(P), A_MAX, 14.8, n=201)
print("  extrapolated on [13.3, 14.8] (result there below the smallest normal) = %s" % log2s(e2))
vmin, vmax = alpha / (A_MAX + 2) - beta, alpha / 2 - beta
print("  v range for a in [0, 13.3]: [%.7f, %.7f]" % (vmin, vmax))

N, k = 3000, 2.0
tmin, tmax = 1 / (A_MAX + k), 1 / (0 + k)
al = np.float32(2 / (tmax - tmin))
be = np.float32((tmax + tmin) / (tmax - tmin))
print("  alpha, beta from the interval: %r %r (kernel: 4.601504f 1.3007519f)" % (al, be))
v = np.cos(np.linspace(0, np.pi, N))
t = (v + float(be)) / float(al)
a = 1 / t - k
a = a[(a >= 0) & (a <= A_MAX)]
t = 1 / (a + k)
v = float(al) * t - float(be)
g = np.array([float(E(mp.mpf(x))) for x in a]) / t
V = np.vander(v, 12, increasing=True)
c, e_fit = lawson(V, g, 1 / g)
c32, _ = lawson_round_f32(V, g, 1 / g, list(range(12)))
e32, _ = max_error(err32(c32), 0, A_MAX, n=1001)
print("  re-fit: minimax %s, float32 (sequential rounding) %s" % (log2s(e_fit), log2s(e32)))
compare("P (degree 11)", P, list(c32), f32=True)

# ---- 2. double degree 10 (non-FMA float32 gelu, evaluated in double) --------------------
src = header("fa_gelu.h")
body = function_body(src, "fa_gelu_v_f64w")
Q = c_array(body, "c")
assert "0.3 * 0.70710678118654752440" in body
W, cw = 10.3, 0.3
print("\nfa_gelu_v_f64w: erfcx(w) = t P(t), t = 1/(1 + 0.3 w), P degree %d, w in [0, %g]" % (len(Q) - 1, W))


def err64(coeffs):
    def f(w):
        t = 1 / (1 + cw * w)
        return t * horner(coeffs, t) / erfcx(w) - 1
    return f


e, at = max_error(err64(Q), 0, W, n=1001)
print("  max |t P(t) - erfcx(w)| / erfcx(w) = %s at w = %.4f   (kernel comment: 2^-30.4)" % (log2s(e), at))
tmin = 1 / (1 + cw * W)
n = 1500
tt = np.cos(np.linspace(0, np.pi, n)) * (1 - tmin) / 2 + (1 + tmin) / 2
ww = (1 / tt - 1) / cw
y = np.array([float(erfcx(mp.mpf(float(w)))) for w in ww]) / tt
cq, e_fit = lawson(np.stack([tt ** j for j in range(11)], 1), y, np.ones(n), iters=80)
eq, _ = max_error(err64(list(cq)), 0, W, n=1001)
print("  re-fit: Lawson %s (absolute in erfcx/t), relative to erfcx %s" % (log2s(e_fit), log2s(eq)))
compare("P (degree 10)", Q, list(cq))
