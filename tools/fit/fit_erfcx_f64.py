"""float64 erfcx table: fa_math_f64.h fa_erfcx_mid, fa_erfcx_c[17][16], fa_erfcx_c0_lo
(used by fa_erfcx_f64, gelu float64).  erfcx(z) = e^(z^2) erfc(z) on [0, 32] in 13
intervals [0, 1/2), [1/2, 3/4), [3/4, 1), [1, 3/2), ..., [24, 32); on each a degree-16
polynomial in z - mid, mid = (a + b)/2: Chebyshev-node interpolation (17 roots) of erfcx in
mpmath at 50 digits, coefficients rounded to double, the leading one kept as hi + lo
(the original /tmp/m64/fit_erfcx2.py 16).  Table slot = (bits(max(a, 3/8)) >> 51) & 15.

Verifies each interval's relative error with the committed coefficients evaluated exactly
(c0 = hi + lo), and re-derives the tables bit for bit."""
import struct

import mpmath as mp

from _common import header, c_array, max_error, log2s, cheb_interp

mp.mp.dps = 50
D = 16
src = header("fa_math_f64.h")
mids = c_array(src, "fa_erfcx_mid")
flat = c_array(src, "fa_erfcx_c")
c0lo = c_array(src, "fa_erfcx_c0_lo")
assert len(mids) == 16 and len(flat) == 16 * (D + 1) and len(c0lo) == 16
C = [flat[16 * j:16 * (j + 1)] for j in range(D + 1)]
F = lambda z: mp.exp(z * z) * mp.erfc(z)

edges = [0, 0.5, 0.75]
b = 1.0
while b < 32:
    edges += [b, 1.5 * b]
    b *= 2
edges = sorted(set(edges + [32.0]))


def slot(a):
    bits = struct.unpack("<Q", struct.pack("<d", max(a, 0.375)))[0]
    return (bits >> 51) & 15


worst = mp.mpf(0)
identical = True
used = set()
print("interval        slot  mid      max rel error (committed)   re-derived")
for a, b in zip(edges[:-1], edges[1:]):
    k = slot(a)
    used.add(k)
    mid = mids[k]
    coeffs = [mp.mpf(C[0][k]) + mp.mpf(c0lo[k])] + [mp.mpf(C[j][k]) for j in range(1, D + 1)]

    def err(z):
        s = z - mid
        y = mp.mpf(0)
        for c in reversed(coeffs):
            y = y * s + c
        return y / F(z) - 1

    e, at = max_error(err, a, b, n=201)
    worst = max(worst, e)
    # re-derive (mid is the double nearest the interval's centre)
    ref_mid = float((mp.mpf(a) + mp.mpf(b)) / 2)
    c = cheb_interp(F, a, b, D, center=mp.mpf(ref_mid))
    same = ref_mid == mid and float(c[0]) == C[0][k] and float(c[0] - mp.mpf(float(c[0]))) == c0lo[k] \
        and all(float(c[j]) == C[j][k] for j in range(1, D + 1))
    identical &= same
    print("[%5g, %5g)  %4d  %-7g  %s at z = %.4f          %s" % (a, b, k, mid, log2s(e), at, "identical" if same else "DIFFERS"))
unused = sorted(set(range(16)) - used)
zero = all(mids[k] == 0 and c0lo[k] == 0 and all(C[j][k] == 0 for j in range(D + 1)) for k in unused)
print("worst interval: %s (kernel comment: below 2^-55.3 on every interval, including evaluation)" % log2s(worst))
print("unused slots %s all zero: %s; whole table re-derived bit for bit: %s" % (unused, zero, identical))
