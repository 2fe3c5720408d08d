"""float32 2 atanh polynomial: fa_math_f32.h FA_2ATANH_R0..R3 (fa_2atanh_small_f32, and the
float64-evaluated fa_log1p_unit_f64w): 2 atanh(s) = 2s + s w R(w), w = s^2, |s| <= 1/3,
R of degree 3, error relative to 2 atanh(s).  Verifies the committed macros against mpmath
and re-fits (Lawson minimax in w, then float32 rounding; the producing script is lost)."""
import mpmath as mp
import numpy as np

from _common import header, macro, is_f32, horner, max_error, log2s, lawson, lawson_round_f32, fmt_hex, compare

mp.mp.dps = 40
src = header("fa_math_f32.h")
R = [macro(src, "FA_2ATANH_R%d" % k) for k in range(4)]
S = mp.mpf(1) / 3
print("FA_2ATANH_R0..R3: R(w) degree 3, w = s^2, |s| <= 1/3, coefficients %s" % fmt_hex(R, True))
print("  all float32: %s" % all(map(is_f32, R)))


def rel_err(coeffs):
    def err(s):
        if s == 0:
            return mp.mpf(0)
        w = s * s
        return (2 * s + s * w * horner(coeffs, w)) / (2 * mp.atanh(s)) - 1
    return err


e, at = max_error(rel_err(R), 0, S)          # odd function: s >= 0 suffices
print("  max |2s + s w R(w) - 2atanh(s)| / 2atanh(s) = %s at s = %.4f   (kernel comment: 2^-27.6)" % (log2s(e), at))
# log1p_unit: s = e/(2+e), e in [0, 1], so s in [0, 1/3]; log ratio: |s| < 1/3; logit's
# middle branch admits |s| <= 0x1.555556p-2, the float32 just above 1/3:
e2, _ = max_error(rel_err(R), 0, float.fromhex("0x1.555556p-2"), n=201)
print("  on |s| <= 0x1.555556p-2 (logit's middle branch)  = %s" % log2s(e2))

n = 4000
s = (np.cos(np.linspace(0, np.pi, n)) + 1) / 2 * float(S)
s = s[s > 0]
sm = [mp.mpf(float(v)) for v in s]
w = s * s
target = np.array([float((2 * mp.atanh(v) / v - 2) / (v * v)) for v in sm])
weight = np.array([float(v ** 3 / (2 * mp.atanh(v))) for v in sm])
A = np.vander(w, 4, increasing=True)
c, e_fit = lawson(A, target, weight)
c32 = [float(np.float32(v)) for v in c]
e32, _ = max_error(rel_err(c32), 0, S)
print("  re-fit (Lawson, weight s^3/2atanh(s)): minimax %s, rounded to float32 %s" % (log2s(e_fit), log2s(e32)))
compare("R (rounded to nearest)", R, c32, f32=True)
cs, _ = lawson_round_f32(A, target, weight, order=[0, 1, 2, 3])
es, _ = max_error(rel_err(cs), 0, S)
print("  re-fit rounding one coefficient at a time from R0, refitting the rest: %s" % log2s(es))
compare("R (sequential rounding)", R, cs, f32=True)
