"""float64 exp / expm1 / log1p polynomials and tables: verify against mpmath, re-derive.

fa_math_f64.h:fa_exp_reduce_f64  Tang's 16-entry table scheme, |r| <= ln2/32 + slack (0.022):
  FA_EXP_M1 branch  expm1(r) = r + r^2 q(r), q degree 5, error relative to expm1(r)
  exp branch        r + r^2 q(r), q degree 4, error relative to e^r (1 + p)
  both: Chebyshev-node interpolation of (expm1(r) - r)/r^2 on [-0.022, 0.022] in mpmath,
  coefficients rounded to double (the original /tmp/m64/fit.py).
fa_math_f64.h:fa_exp2_16_hi/lo  2^(j/16) = hi + lo, hi and lo rounded to nearest.
fa_math_f64.h:fa_log1p_reduced_f64  2atanh(s)/s - 2 = z P(z), z = s^2 in [0, 0.0295],
  P degree 6, Chebyshev-node interpolation (the original /tmp/m64/fit.py); error relative
  to log1p(f), f in [sqrt2/2 - 1, sqrt2 - 1].
"""
import mpmath as mp

from _common import (header, function_body, hexfloats, c_array, horner, max_error, log2s,
                     cheb_interp, fmt_hex, compare)

mp.mp.dps = 50
src = header("fa_math_f64.h")

# ---- Tang exp/expm1 ---------------------------------------------------------------------
body = function_body(src, "fa_exp_reduce_f64")
m1_txt = body[body.index("if (opts & FA_EXP_M1)"):body.index("} else")]
ex_txt = function_body(src, "fa_exp_q4_f64")   # the exp branch calls fa_exp_q4_f64
q_m1, q_ex = hexfloats(m1_txt)[::-1], hexfloats(ex_txt)[::-1]
A = mp.mpf("0.022")
print("Tang reduced argument: |r| <= ln2/32 = %.5f (+ reduction slack); checked on |r| <= %s" % (float(mp.log(2) / 32), A))
pm1 = lambda q: (lambda r: r + r * r * horner(q, r))
qfun = lambda r: (mp.expm1(r) - r) / r ** 2 if abs(r) > mp.mpf("1e-20") else mp.mpf(1) / 2 + r / 6
e, at = max_error(lambda r: pm1(q_m1)(r) / mp.expm1(r) - 1 if r else 0, -A, A)
print("fa_exp_reduce_f64 FA_EXP_M1: q degree %d: max rel error vs expm1(r) = %s at r = %.4f   (comment: 2^-58.7)" % (len(q_m1) - 1, log2s(e), at))
compare("q (expm1, degree 5)", q_m1, [float(c) for c in cheb_interp(qfun, -A, A, 5)])
e, at = max_error(lambda r: (pm1(q_ex)(r) - mp.expm1(r)) / mp.exp(r), -A, A)
print("fa_exp_reduce_f64 exp:       q degree %d: max |p - expm1(r)| / e^r = %s at r = %.4f   (comment: 2^-54.8)" % (len(q_ex) - 1, log2s(e), at))
compare("q (exp, degree 4)", q_ex, [float(c) for c in cheb_interp(qfun, -A, A, 4)])

hi, lo = c_array(src, "fa_exp2_16_hi"), c_array(src, "fa_exp2_16_lo")
ok = True
worst = mp.mpf(0)
for j in range(16):
    v = mp.power(2, mp.mpf(j) / 16)
    ok &= hi[j] == float(v) and lo[j] == float(v - mp.mpf(float(v)))
    worst = max(worst, abs((mp.mpf(hi[j]) + lo[j]) / v - 1))
print("fa_exp2_16_hi/lo: hi = round(2^(j/16)), lo = round(remainder) for all 16: %s; max |hi + lo - 2^(j/16)| / 2^(j/16) = %s" % (ok, log2s(worst)))

# ---- log1p P(z) -------------------------------------------------------------------------
body = function_body(src, "fa_log1p_reduced_f64")
P = hexfloats(body[:body.index("hfsq")])[::-1]
ZM = mp.mpf("0.0295")
Ptrue = lambda z: (2 * mp.atanh(mp.sqrt(z)) / mp.sqrt(z) - 2) / z if z > mp.mpf("1e-40") else mp.mpf(2) / 3
smax = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
print("\nfa_log1p_reduced_f64: P degree %d, z = s^2 <= %.5f (|s| <= %.5f)" % (len(P) - 1, float(smax ** 2), float(smax)))


def log_err(s):
    if s == 0:
        return mp.mpf(0)
    z = s * s
    return s * (2 + z * horner(P, z)) / (2 * mp.atanh(s)) - 1


e, at = max_error(log_err, 0, smax)
print("  max relative error vs log1p(f) = 2atanh(s) = %s at s = %.4f   (comment: 2^-57.5)" % (log2s(e), at))
compare("P (log1p, degree 6)", P, [float(c) for c in cheb_interp(Ptrue, 0, ZM, 6)])

