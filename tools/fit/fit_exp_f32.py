"""float32 exp polynomials: verify the committed coefficients against mpmath, re-derive them.

1. fa_math_f32.h:fa_expm1_reduced_f32 (and its float64-evaluated copy in fa_exp_neg_f64w):
   e^t - 1 = t + t^2 P(t), P of degree 4 on |t| <= 0.3535, error relative to e^t.
   Re-fit: Lawson minimax on 4000 Chebyshev nodes, weight t^2/e^t, then float32 rounding
   (the script that produced the committed set is lost: only its Lawson routine survives).
"""
import mpmath as mp
import numpy as np

from _common import (header, function_body, hexfloats, is_f32, horner, max_error, log2s,
                     lawson, fmt_hex, compare, expm1_fit_nodes)

mp.mp.dps = 40

# ---- 1. expm1 P(t), degree 4 ------------------------------------------------------------
src = header("fa_math_f32.h")
P = hexfloats(function_body(src, "fa_expm1_reduced_f32"))[::-1]          # ascending
body_w = function_body(src, "fa_exp_neg_f64w")
P_w = hexfloats(body_w[body_w.index("fa_simd_f64 m ="):])[::-1]
T = 0.3535
print("fa_expm1_reduced_f32: P(t) degree %d, |t| <= %g, coefficients %s" % (len(P) - 1, T, fmt_hex(P, True)))
print("  all float32: %s; fa_exp_neg_f64w uses the same set: %s" % (all(map(is_f32, P)), P_w == P))
approx = lambda t: t + t * t * horner(P, t)
e_rel_exp, at = max_error(lambda t: (approx(t) - mp.expm1(t)) / mp.exp(t), -T, T)
print("  max |t + t^2 P(t) - expm1(t)| / e^t   = %s at t = %.4f   (kernel comment: 2^-27.4)" % (log2s(e_rel_exp), at))
e_rel_m1, at = max_error(lambda t: (approx(t) - mp.expm1(t)) / mp.expm1(t) if t else 0, -T, T)
print("  max relative to expm1(t)              = %s at t = %.4f" % (log2s(e_rel_m1), at))
ln2h = mp.log(2) / 2
e_core, _ = max_error(lambda t: (approx(t) - mp.expm1(t)) / mp.exp(t), -ln2h, ln2h)
print("  on |t| <= ln2/2 only (FMA reduction)  = %s" % log2s(e_core))

# re-fit
t, target, weight = expm1_fit_nodes(T)
A = np.vander(t, 5, increasing=True)
c, e = lawson(A, target, weight, iters=200)
c32 = [float(np.float32(v)) for v in c]
e32, _ = max_error(lambda t: (t + t * t * horner(c32, t) - mp.expm1(t)) / mp.exp(t), -T, T)
print("  re-fit (Lawson, weight t^2/e^t): minimax %s, rounded to float32 %s" % (log2s(e), log2s(e32)))
compare("P", P, c32, f32=True)

