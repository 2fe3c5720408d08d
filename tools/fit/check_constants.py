"""The non-fitted hex constants of the kernels (ln2 splits, log2e, rounding magics, cutoffs,
SELU and gelu constants, double-double splits): each is read from its header and compared
with its definition computed in mpmath.  Prints one line per constant, OK or MISMATCH."""
import re

import mpmath as mp
import numpy as np

from _common import activation_families, header, macro, function_body, hexfloats

mp.mp.dps = 60
ln2, log2e = mp.log(2), 1 / mp.log(2)
f32 = lambda v: float(np.float32(float(v)))
rnd = lambda v: float(v)                                   # nearest double
bad = 0


def check(name, got, want, note=""):
    global bad
    ok = got == want
    bad += not ok
    print("%-58s %-24s %s%s" % (name, float(got).hex(), "OK" if ok else "MISMATCH, expected " + float(want).hex(),
                                ("  (" + note + ")") if note else ""))


m32, m64 = (header(h) for h in ("fa_math_f32.h", "fa_math_f64.h"))
a32 = a64 = activation_families()
hi64 = mp.floor(ln2 * 2 ** 32) / 2 ** 32
check("fa_math_f64.h FA_LOG2E_F64 = round(1/ln2)", macro(m64, "FA_LOG2E_F64"), rnd(log2e))
check("fa_math_f64.h FA_LN2_HI_F64 = ln2 truncated to 2^-32", macro(m64, "FA_LN2_HI_F64"), rnd(hi64))
check("fa_math_f64.h FA_LN2_LO_F64 = round(ln2 - HI)", macro(m64, "FA_LN2_LO_F64"), rnd(ln2 - hi64))
check("fa_math_f64.h FA_LN2_LO2_F64 = round(ln2 - HI - LO)", macro(m64, "FA_LN2_LO2_F64"),
      rnd(ln2 - hi64 - mp.mpf(rnd(ln2 - hi64))))
check("fa_math_f64.h FA_MAGIC_F64 = 1.5 * 2^52", macro(m64, "FA_MAGIC_F64"), 1.5 * 2 ** 52)

# float32 rr2 split (XNNPACK): hi has 15 significant bits (so n*hi is exact for |n| < 2^9)
hi32 = float.fromhex("0x1.62E400p-1")
check("float32 ln2_hi 0x1.62E4p-1 = ln2 rounded to 15 bits", hi32, rnd(mp.nint(ln2 * 2 ** 15) / 2 ** 15))
check("float32 ln2_lo = float32(ln2 - ln2_hi)", float.fromhex("0x1.7F7D1Cp-20"), f32(ln2 - hi32))
red = function_body(m32, "fa_exp_reduce_shift_f32")
check("fa_math_f32.h FA_LOG2E_F32 = float32(1/ln2)", macro(m32, "FA_LOG2E_F32"), f32(log2e))
check("fa_exp_reduce_shift_f32 uses ln2_hi", hexfloats(red)[0], hi32)
check("fa_exp_reduce_shift_f32 uses ln2_lo", hexfloats(red)[1], f32(ln2 - hi32))
check("fa_math_f32.h FA_EXP_MAGIC_F32 = 1.5 * 2^23 + 127", macro(m32, "FA_EXP_MAGIC_F32"), 1.5 * 2 ** 23 + 127)
cut = -float.fromhex(re.search(r"FA_EXP_CUTOFF_F32 \(-(\S+?)f\)", m32).group(1))
near = np.float32(float(-126 * ln2))
above = float(near) if near > -126 * ln2 else float(np.nextafter(near, np.float32(0)))
check("FA_EXP_CUTOFF_F32 = smallest float32 above -126 ln2", cut, above,
      "nearest is %s; e^cutoff / 2^-126 = %.9f" % (float(near).hex(), float(mp.exp(cut) / mp.mpf(2) ** -126)))
w = function_body(m32, "fa_exp_neg_f64w")
hw = hexfloats(w)[1:]                       # [0] is the rounding magic 0x1.8p52
check("fa_exp_neg_f64w log2e", hw[0], rnd(log2e))
check("fa_exp_neg_f64w ln2_hi (32 bits)", hw[1], rnd(hi64))
check("fa_exp_neg_f64w ln2_lo", hw[2], rnd(ln2 - hi64))
lg = function_body(a32, "fa_logit_core_f32")
third = f32(mp.mpf(1) / 3)
check("fa_logit_core_f32 |2p-1| bound = float32(1/3)", hexfloats(lg)[0], third,
      "above 1/3 by %.2g" % float(third - mp.mpf(1) / 3))
check("fa_log1p_unit_f64 threshold = round(sqrt2 - 1)", hexfloats(function_body(m64, "fa_log1p_unit_f64"))[0],
      rnd(mp.sqrt(2) - 1))

# SELU (float64 kernel): round of the decimal constants' product computed exactly
scale, alpha = mp.mpf("1.0507009873554804934193349852946"), mp.mpf("1.6732632423543772848170429916717")
sel = function_body(a64, "fa_selu_v_f64") if "fa_selu_v_f64" in a64 else a64
hs = hexfloats(sel[sel.index("scale ="):])[:2]
check("SELU scale = round(1.0507009873554804934...)", hs[0], rnd(scale))
check("SELU scale*alpha = round(scale * alpha)", hs[1], rnd(scale * alpha))

# gelu_tanh c1 = 2 sqrt(2/pi), c3 = c1 * 0.044715 as double-doubles.  0.044715 is taken as
# the double nearest it (what torch multiplies by), not the decimal: the decimal reading
# gives c3l = -0x1.6c843a29d1c70p-61 (relative difference 2^-54 in c3).
g = [macro(a64, "FA_GELU_TANH_" + c + "_F64") for c in ("C1H", "C1L", "C3H", "C3L")]
c1 = 2 * mp.sqrt(2 / mp.pi)
c3 = c1 * mp.mpf(0.044715)
check("gelu_tanh c1h = round(2 sqrt(2/pi))", g[0], rnd(c1))
check("gelu_tanh c1l = round(c1 - c1h)", g[1], rnd(c1 - mp.mpf(g[0])))
check("gelu_tanh c3h = round(c1 * double(0.044715))", g[2], rnd(c3))
check("gelu_tanh c3l = round(c3 - c3h)", g[3], rnd(c3 - mp.mpf(g[2])))
ge = hexfloats(function_body(a64, "fa_gelu_z_f64"))
check("gelu 1/sqrt2 hi = round(1/sqrt2)", ge[0], rnd(1 / mp.sqrt(2)))
check("gelu 1/sqrt2 lo = round(1/sqrt2 - hi)", ge[1], rnd(1 / mp.sqrt(2) - mp.mpf(ge[0])))
print("%d mismatches" % bad)
