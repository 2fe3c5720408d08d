"""Piecewise polynomials of the float32 gelu gradient's bracket (AVX-512 kernel: the table
fa_gelu_grad_lut_f32 in src_c/activations/fa_gelu.h).

gelu'(x) = G B (x < 0), 1 - G B (x >= 0), G = e^(-a^2/2), a = |x|, and
    B(a) = erfcx(a/sqrt2)/2 - a/sqrt(2 pi),
with a simple root at a0 = 0.75179.  a in [0, 13] is split into 16 intervals by the bits of
w = a + 1 (exponent and the top 2 mantissa bits: j = bits(w) >> 21 mod 16, a quarter binade
of w each; the lookup's index).  On interval j, with u = a - c_j (c_j the midpoint),
    B = d P_j(u),  d = (a - a0h) - a0l on the two intervals around the root (a in [0.5, 1):
                   a - a0h exact by Sterbenz; the kernel keeps a0l as a separate term), d = 1
                   elsewhere,
P_j = c0h + (c0l + u Q(u)) (the constant term as a float32 pair, coefficient rows c0h, c0l,
c1, ...) of degree DEG fitted relative (Lawson minimax against mpmath on Chebyshev nodes of the
interval widened by 2^-19 each side: w's rounding may file an a at a boundary into the
neighbour), coefficients rounded to float32 one at a time from the constant term, the rest
refitted.  Prints the tables (coefficient k of every interval: one 16-entry table each, and
c_j), the fit's relative error per interval, and the max.

    python tools/fit/fit_gelu_grad_lut_f32.py            # degree 6: 2^-29.35, ~2 s
"""
import argparse

import mpmath as mp
import numpy as np

from _common import c_array, fit_f32_pair_head, header

mp.mp.dps = 40
K = 1 / mp.sqrt(2 * mp.pi)


def bracket(a):
    z = a / mp.sqrt(2)
    return mp.exp(z * z) * mp.erfc(z) / 2 - a * K


def intervals8():
    """(j, lo, hi) in a for j = 0..7, from w = a + 1 in [1, 16): half binades of w,
    j = (bits(w) >> 22) & 7 (the exponent's low 2 bits and the top mantissa bit: one 8-entry
    lookup, a single vpermps on AVX2)."""
    out = []
    for j in range(8):
        e = (j // 2 + 1) if j < 6 else 0           # [1,2) -> 6, 7
        h = j % 2
        wlo = 2.0 ** e * (1 + h / 2)
        whi = 2.0 ** e * (1 + (h + 1) / 2)
        out.append((j, wlo - 1, whi - 1))
    return out


def intervals():
    """(j, lo, hi) in a for j = 0..15, from w = a + 1 in [1, 16)."""
    out = []
    for j in range(16):
        e = j // 4 + 1 if j < 12 else 0            # j = (bits >> 21) & 15: [1,2) -> 12..15
        q = j % 4
        wlo = 2.0 ** e * (1 + q / 4)
        whi = 2.0 ** e * (1 + (q + 1) / 4)
        out.append((j, wlo - 1, whi - 1))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--degree", type=int, default=6)
    ap.add_argument("--nodes", type=int, default=300)
    ap.add_argument("--intervals", type=int, default=16, choices=(8, 16))
    a_ = ap.parse_args()
    deg = a_.degree
    NI = a_.intervals
    a0 = mp.findroot(bracket, 0.75)
    a0h = float(np.float32(float(a0)))
    a0l = float(np.float32(float(a0 - a0h)))
    print(f"root a0 = {mp.nstr(a0, 20)}: a0h = {a0h.hex()}, a0l = {a0l.hex()}")
    coef = np.zeros((deg + 2, NI))
    cen = np.zeros(NI)
    root = np.zeros(NI, bool)
    worst = 0
    for j, lo, hi in (intervals() if NI == 16 else intervals8()):
        if lo >= 13.5:                            # a is clamped to 13: unused
            continue
        if NI == 8:                               # its last interval, [11, 15), fitted to 13
            hi = min(hi, 13.0 + 2.0 ** -10)
        c = float(np.float32((lo + hi) / 2))
        lo2, hi2 = max(0.0, lo - 2.0 ** -19), hi + 2.0 ** -19
        root[j] = lo <= a0 < hi or abs(a0 - lo) < 0.01 or abs(a0 - hi) < 0.01
        nodes = [(lo2 + hi2) / 2 + (hi2 - lo2) / 2 * mp.cos(mp.pi * (k + 0.5) / a_.nodes) for k in range(a_.nodes)]
        if root[j]:
            tgt = [bracket(v) / ((v - a0h) - a0l) for v in nodes]
        else:
            tgt = [bracket(v) for v in nodes]
        y = np.array([float(t) for t in tgt])
        u = np.array([float(v) - c for v in nodes])
        A = np.vander(u, deg + 1, increasing=True)
        w = 1 / np.abs(y)
        coef[:, j], err = fit_f32_pair_head(A, y, w)
        cen[j] = c
        worst = max(worst, err)
        print(f"j={j:2d} a in [{lo:.4f}, {hi:.4f}) root={int(root[j])} fit 2^{np.log2(err):.2f}")
    print(f"max fit error 2^{np.log2(worst):.2f} (degree {deg})")
    rows = [cen, coef[0], coef[1]] + [coef[k] for k in range(2, deg + 2)]
    print("fa_gelu_grad_lut_f32 (rows: center, c0h, c0l, c1, ...):")
    for r in rows:
        print("    {" + ", ".join(c_float(v) for v in r) + "},")
    name = {(6, 16): "fa_gelu_grad_lut_f32", (8, 8): "fa_gelu_grad_lut8_f32"}.get((deg, NI))
    if name:
        got = c_array(header("fa_gelu.h"), name)
        same = got == [float(np.float32(v)) for r in rows for v in r]
        print(f"  re-derived {name}:", "identical" if same else "DIFFERENT")


def c_float(v):
    v = float(np.float32(v))
    if v == 0:
        return "0.0f"
    m, e = v.hex().split("p")
    return f"{m[:m.index('.') + 7]}p{e}f"


if __name__ == "__main__":
    main()
