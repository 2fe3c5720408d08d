"""float32 table-driven exp of the float32 statistics pass (fa_math_f32.h: fa_exp_lut16_f32):
verify the committed constants against mpmath and re-derive them.

e^z = 2^(N/16) e^t, N = round(16 z log2e), |t| <= ln2/32 (+ the float32 log2e's slack, 5e-6
at |z| < 355: h = 0.02167); 2^(N/16) = 2^q 2^(j/16), j = N mod 16, 2^(j/16) = hi_j (1 + r_j):
  hi_j = 2^(j/16) rounded to float32 (stored as bits(hi_j) - (j << 19), XNNPACK's
         exp2minus_k_over_16 layout, so adding the shifted magic-bias bits gives 2^q hi_j),
  r_j  = 2^(j/16) / hi_j - 1 rounded to float32 (|r_j| < 2^-24), added to t: e^(t + r_j)
         = e^t (1 + r_j) + O(r_j^2);
  e^u - 1 = u + u^2 (c2 + c3 u) on |u| <= h, fitted by Lawson minimax (4000 Chebyshev nodes,
         weight u^2/e^u: the error relative to e^u), c3 rounded to float32, then c2 refitted and
         rounded (lawson_round_f32, order c3, c2).
Prints the maximum errors of the committed constants and whether the fit reproduces them.
"""
import mpmath as mp
import numpy as np

from _common import (header, function_body, c_array, hexfloats, max_error, log2s, lawson_round_f32,
                     fmt_hex, compare, expm1_fit_nodes)

mp.mp.dps = 40
H = 0.02167

src = header("fa_math_f32.h")
body = function_body(src, "fa_expm1_lut16_f32")
C = hexfloats(body)[::-1]                                   # ascending: c2, c3
hi_bits = [int(np.float32(v).view(np.uint32)) for v in c_array(src, "fa_exp2_16_f32_adj")]
R = c_array(src, "fa_exp2_16_f32_rt")

# ---- the tables ------------------------------------------------------------------------
want_bits, want_r = [], []
for j in range(16):
    e = mp.power(2, mp.mpf(j) / 16)
    hi = np.float32(float(e))
    want_bits.append((int(hi.view(np.uint32)) - (j << 19)) & 0xFFFFFFFF)
    want_r.append(float(np.float32(float(e / mp.mpf(float(hi)) - 1))))
print("fa_exp2_16_f32_adj: %s" % ("identical" if hi_bits == want_bits else "DIFFERS"))
print("fa_exp2_16_f32_rt : %s" % ("identical" if R == want_r else "DIFFERS"))
worst = 0
for j in range(16):
    hi = np.uint32((hi_bits[j] + (j << 19)) & 0xFFFFFFFF).view(np.float32)
    err = abs(mp.mpf(float(hi)) * (1 + mp.mpf(R[j])) / mp.power(2, mp.mpf(j) / 16) - 1)
    worst = max(worst, err)
print("  max |hi_j (1 + r_j) / 2^(j/16) - 1| = %s (hi_j alone: up to 2^-24)" % log2s(worst))

# ---- the polynomial ----------------------------------------------------------------------
approx = lambda u: u + u * u * (mp.mpf(C[0]) + mp.mpf(C[1]) * u)
e_rel, at = max_error(lambda u: (approx(u) - mp.expm1(u)) / mp.exp(u), -H, H)
print("fa_expm1_lut16_f32: c2, c3 = %s on |u| <= %g" % (fmt_hex(C, True), H))
print("  max |u + u^2 (c2 + c3 u) - expm1(u)| / e^u = %s at u = %.5f" % (log2s(e_rel), at))
u, target, weight = expm1_fit_nodes(H)
A = np.vander(u, 2, increasing=True)
c, e = lawson_round_f32(A, target, weight, order=[1, 0])
print("  re-fit (Lawson, weight u^2/e^u, c3 then c2 rounded): %s" % log2s(e))
compare("c2, c3", C, list(c), f32=True)
