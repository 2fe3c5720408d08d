"""Shared helpers for the coefficient scripts in tools/fit/ (mpmath + numpy only).

- reading committed constants out of the C kernels (regex on a function body, a macro or
  a static array), so every script checks the constants actually compiled;
- a Lawson (iteratively reweighted least squares) minimax fit on Chebyshev nodes, the
  method the float32 kernels name;
- Chebyshev-node interpolation in mpmath, the method the float64 kernels name;
- error measurement of a polynomial with the committed (rounded) coefficients evaluated
  EXACTLY in mpmath: this is the approximation error of the constants, not including the
  rounding of the kernel's Horner/Estrin evaluation (the ULP tests cover that).
"""
import math
import os
import re

import mpmath as mp
import numpy as np

SRC_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src_c")
HEADER_DIRS = [os.path.join(SRC_C, d) for d in ("math", "activations", "kernels")]
HEX = re.compile(r"-?0x[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?p[+-]?\d+")


def header(name):
    """a C header by name: the math family (src_c/math), an activation family
    (src_c/activations) or a loop file (src_c/kernels)"""
    path = next((p for p in (os.path.join(d, name) for d in HEADER_DIRS) if os.path.exists(p)), None)
    if path is None:
        raise FileNotFoundError(name)
    with open(path) as f:
        return f.read()


def activation_families():
    """the text of every activation family file (src_c/activations/*.h), concatenated"""
    folder = os.path.join(SRC_C, "activations")
    return "".join(header(name) for name in sorted(os.listdir(folder)) if name.endswith(".h"))


def function_body(src, func):
    """Text of the C function `func` (from its name to the first line that is '}')."""
    m = re.search(r"^(?:FA_INLINE|static)[^\n;]*\b" + re.escape(func) + r"\s*\(", src, re.M)
    if not m:
        raise LookupError(func)
    end = src.index("\n}", m.end())
    return src[m.start():end]


def hexfloats(text):
    """Every hex-float literal in text, in order, as Python floats (an 'f' suffix is the
    float32 literal, whose value is the same hex number: all are checked to be float32)."""
    return [float.fromhex(h) for h in HEX.findall(text)]


def macro(src, name):
    m = re.search(r"#define\s+" + re.escape(name) + r"\s+(\S+)", src)
    return float.fromhex(m.group(1).rstrip("f"))


def c_array(src, name):
    """Hex literals of `static const ... name[...] = {...};` in order (flattened)."""
    m = re.search(re.escape(name) + r"\s*(\[[^=]*)=\s*\{(.*?)\};", src, re.S)
    if not m:
        raise LookupError(name)
    return hexfloats(m.group(2))


def is_f32(v):
    return float(np.float32(v)) == v


def horner(coeffs_ascending, x):
    y = mp.mpf(0)
    for c in reversed(coeffs_ascending):
        y = y * x + mp.mpf(c)
    return y


def cheb_points(a, b, n):
    """n Chebyshev extrema on [a, b] as mpf (endpoints included)."""
    a, b = mp.mpf(a), mp.mpf(b)
    return [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * k / (n - 1)) for k in range(n)]


def expm1_fit_nodes(h, n=4000):
    """The fitting problem of an exp core written e^t - 1 = t + t^2 P(t) on |t| <= h: n
    Chebyshev nodes t (float64, t = 0 left out), the target (e^t - 1 - t) / t^2 and the weight
    t^2 / e^t that makes P's error relative to e^t (fit_exp_f32.py, fit_exp_lut16_f32.py)."""
    t = np.cos(np.linspace(0, np.pi, n)) * h
    tm = [mp.mpf(float(v)) for v in t]
    target = np.array([float((mp.expm1(v) - v) / (v * v)) if v else 0.5 for v in tm])
    weight = np.array([float(v * v / mp.exp(v)) for v in tm])
    keep = weight > 0
    return t[keep], target[keep], weight[keep]


def max_error(err_fn, a, b, n=2001):
    """max |err_fn(x)| over n Chebyshev points plus n uniform points of [a, b]; returns
    (max, argmax)."""
    a, b = mp.mpf(a), mp.mpf(b)
    xs = cheb_points(a, b, n) + [a + (b - a) * i / (n - 1) for i in range(n)]
    best, arg = mp.mpf(0), a
    for x in xs:
        e = abs(err_fn(x))
        if e > best:
            best, arg = e, x
    return best, arg


def log2s(e):
    return "2^%.2f" % float(mp.log(e, 2)) if e > 0 else "0"


def lawson(A, y, weight, iters=200):
    """Minimise max |(A c - y) * weight| by Lawson's algorithm; returns (c, max error)."""
    n = len(y)
    Aw, yw = A * weight[:, None], y * weight
    w = np.ones(n) / n
    for _ in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(Aw * sw[:, None], yw * sw, rcond=None)
        e = np.abs(Aw @ c - yw)
        w = w * e
        w /= w.sum()
    return c, float(np.max(np.abs(Aw @ c - yw)))


def lawson_round_f32(A, y, weight, order, iters=120):
    """Lawson fit, then coefficients rounded to float32 one at a time in `order`, the
    remaining ones refitted after each rounding (the float32 gelu's method)."""
    m = A.shape[1]
    fixed = np.zeros(m)
    done = []
    for j in order:
        free = [i for i in range(m) if i not in done]
        c, _ = lawson(A[:, free], y - A[:, done] @ fixed[done], weight, iters)
        fixed[j] = float(np.float32(c[free.index(j)]))
        done.append(j)
    return fixed, float(np.max(np.abs(A @ fixed - y) * weight))


def fit_f32_pair_head(A, y, w):
    """Weighted Lawson fit of y on the columns of A, its constant term kept as a float32 pair
    (c0h, c0l) and the other coefficients re-fitted rounded to float32 with that pair fixed:
    (coefficients [c0h, c0l, c1, ...], the rounded fit's weighted error)."""
    c0 = float(lawson(A, y, w)[0][0])
    c0h = float(np.float32(c0))
    c0l = float(np.float32(c0 - c0h))
    cf, err = lawson_round_f32(A[:, 1:], y - (c0h + c0l), w, order=list(range(A.shape[1] - 1)))
    return np.concatenate([[c0h, c0l], cf]), err


def cheb_interp(g, a, b, deg, center=0):
    """Interpolate g at deg+1 Chebyshev roots of [a, b] in mpmath, in powers of (x - center);
    returns mpf coefficients, ascending."""
    N = deg + 1
    a, b = mp.mpf(a), mp.mpf(b)
    nodes = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (2 * k + 1) / (2 * N)) for k in range(N)]
    A = mp.matrix([[(x - center) ** j for j in range(N)] for x in nodes])
    y = mp.matrix([g(x) for x in nodes])
    c = mp.lu_solve(A, y)
    return [c[j] for j in range(N)]


def fmt_hex(cs, f32=False):
    return ", ".join(float(np.float32(c)).hex() if f32 else float(c).hex() for c in cs)


def compare(name, committed, refit, f32=False):
    """Print whether a re-derived coefficient list reproduces the committed one bit for bit."""
    conv = (lambda v: float(np.float32(v))) if f32 else float
    same = [conv(a) == conv(b) for a, b in zip(committed, refit)]
    status = "identical" if all(same) and len(committed) == len(refit) else \
        "DIFFERS in %d of %d" % (sum(not s for s in same), len(committed))
    print("  re-derived %s: %s" % (name, status))
    if not all(same):
        print("    committed:", fmt_hex(committed, f32))
        print("    re-fit   :", fmt_hex(refit, f32))
    return all(same)
