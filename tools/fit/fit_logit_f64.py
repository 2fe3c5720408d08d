"""float64 logit's 2 atanh polynomial: fa_math_f64.h fa_2atanh_poly_f64.

2 atanh(s) = 2s + s z P(z), z = s^2, |s| <= 0.1719: the logit kernel's reduced ratio
s = (m - 1)/(m + 1), m in [sqrt(1/2), sqrt(2)] widened by its reciprocal seed's error
(2^-11: |s| <= 0.17158 + 0.00025).  P of degree 6: Chebyshev-node interpolation of
(2atanh(sqrt z) - 2 sqrt z)/z^1.5 on [0, 0.1719^2] in mpmath, coefficients rounded to
double.  Error measured relative to 2 atanh(s).  Also shows that degree 5 is not enough
(the kernel keeps ~0.5 ULP for this term only below ~2^-56)."""
import mpmath as mp

from _common import header, function_body, hexfloats, horner, max_error, log2s, cheb_interp, fmt_hex, compare

mp.mp.dps = 50
SMAX = mp.mpf("0.1719")
ZMAX = SMAX * SMAX
src = header("fa_math_f64.h")
P = hexfloats(function_body(src, "fa_2atanh_poly_f64"))[::-1]   # Horner from the top: reversed


def ptrue(z):
    if z == 0:
        return mp.mpf(2) / 3
    s = mp.sqrt(z)
    return (2 * mp.atanh(s) - 2 * s) / (s * z)


def rel_err(coeffs):
    return lambda s: (2 * s + s ** 3 * horner(coeffs, s * s)) / (2 * mp.atanh(s)) - 1 if s else 0


print("fa_2atanh_poly_f64: P degree %d, |s| <= %s (z <= %.6f)" % (len(P) - 1, SMAX, float(ZMAX)))
e, at = max_error(rel_err(P), 0, SMAX)
print("  max |2s + s z P(z) - 2atanh(s)| / 2atanh(s) = %s at s = %.4f   (kernel comment: 2^-57.5)" % (log2s(e), at))
compare("P (degree 6)", P, [float(c) for c in cheb_interp(ptrue, 0, ZMAX, 6)])
p5 = [float(c) for c in cheb_interp(ptrue, 0, ZMAX, 5)]
e5, _ = max_error(rel_err(p5), 0, SMAX, n=401)
print("  degree 5 by the same method: %s (too coarse for a ~0.5 ULP kernel)" % log2s(e5))
print("  coefficients (ascending):", fmt_hex(P))
