"""Hash the exact output bits of every public kernel, per kernel variant (ISA).

A refactoring that must not change behaviour (moving kernels between files, sharing a
helper, renaming) is proved bit-neutral by running this on the build before and after
and comparing the hashes:

    PYTHONPATH=. python tools/bits_hash.py            # one line per ISA + the total
    PYTHONPATH=. python tools/bits_hash.py --each     # also one line per function and ISA

What it covers (read from fastact/_registry.py, so a new row is hashed with no edit here):
- every element-wise forward under each of its registry test_params, and every gradient
  with grad_output = None (the plain derivative) and with a fixed grad_output array;
- the reductions (softmax, log_softmax, logsumexp and their gradients) along each axis of
  several shapes (short and long rows, columns, 3-D middle axis) so the row, column,
  lane and slice routes all run;
- binary_cross_entropy_with_logits and its gradient for every reduction;
on float32 and float64 inputs holding every binade (each exponent from the smallest
subnormal to the largest finite, both signs, random mantissas), the specials (+-0, +-inf,
NaN, the largest finite, the smallest subnormal and normal), uniform [0, 1] (logit's
domain) and a dense [-20, 20].  One thread, so the reductions' split is fixed.
"""
import argparse
import hashlib
import sys

import numpy as np

import fastact as fa
from fastact import _registry as reg


def element_inputs(dtype):
    """The element-wise input vector of one dtype (fixed seed: the same on every run)."""
    info = np.finfo(dtype)
    rng = np.random.default_rng(12)
    nbits = info.nmant
    lo_exp = int(np.log2(info.smallest_subnormal)) if hasattr(info, "smallest_subnormal") else info.minexp - nbits
    exps = np.arange(lo_exp, info.maxexp)
    mant = 1 + rng.random((exps.size, 4))
    binades = np.ldexp(mant, exps[:, None]).ravel()
    binades = binades[np.isfinite(binades.astype(dtype))]
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, float(info.max), -float(info.max),
                         float(info.tiny), -float(info.tiny), float(info.smallest_subnormal),
                         -float(info.smallest_subnormal), 1.0, -1.0, 0.5, 3.0, -3.0, 6.0])
    parts = [binades, -binades, specials, rng.random(2000), rng.uniform(-20, 20, 4000),
             rng.uniform(-800, 800, 1000)]
    return np.concatenate(parts).astype(dtype)


def grad_outputs(x):
    """A fixed grad_output of x's shape: scales over many binades, some specials."""
    rng = np.random.default_rng(34)
    g = rng.standard_normal(x.size) * np.ldexp(1.0, rng.integers(-40, 41, x.size))
    g[::97] = np.inf
    g[1::101] = np.nan
    g[2::103] = 0.0
    return g.astype(x.dtype)


def digest(h, arr):
    for a in (arr if isinstance(arr, tuple) else (arr,)):
        a = np.ascontiguousarray(np.asarray(a))
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())


def elementwise_cases():
    """(label, fn(x) -> result) for every forward and gradient with its parameter sets."""
    for act in reg.ACTIVATIONS:
        fn = getattr(fa, act.name)
        sel = {act.select[0]: act.select[1]} if act.select else {}
        for params in act.test_params:
            kw = dict(zip((p.name for p in act.params), params), **sel)
            yield f"{act.kernel}{params}", (lambda x, fn=fn, kw=kw: fn(x, **kw))
    for grad in reg.GRADIENTS:
        act = reg.BY_KERNEL[grad.forward]
        fn = getattr(fa, act.name + "_grad")
        sel = {act.select[0]: act.select[1]} if act.select else {}
        for params in act.test_params:
            kw = dict(zip((p.name for p in act.params), params), **sel)
            yield f"{grad.kernel}{params}", (lambda x, fn=fn, kw=kw: fn(x, None, **kw))
            yield f"{grad.kernel}{params} g", (lambda x, fn=fn, kw=kw: fn(x, grad_outputs(x), **kw))


def reduction_inputs(dtype):
    rng = np.random.default_rng(56)
    shapes = [(7, 1000), (1000, 7), (3, 5, 17), (2, 4099), (64, 33)]
    out = []
    for shape in shapes:
        for scale in (1.0, 30.0, 700.0):
            out.append(((rng.standard_normal(shape) * scale).astype(dtype), f"{shape}x{scale}"))
    special = (rng.standard_normal((9, 40)) * 50).astype(dtype)
    special[1, 3] = np.inf
    special[2, 5] = -np.inf
    special[3, 7] = np.nan
    special[4, :] = -np.inf
    special[5, :] = np.inf
    special[6, ::2] = np.finfo(dtype).max
    special[7, :] = np.finfo(dtype).smallest_subnormal
    out.append((special, "specials"))
    out.append((special.T.copy(), "specials.T"))
    return out


def reduction_cases(x):
    for axis in range(x.ndim):
        yield f"softmax ax{axis}", lambda axis=axis: fa.softmax(x, axis=axis)
        yield f"log_softmax ax{axis}", lambda axis=axis: fa.log_softmax(x, axis=axis)
        yield f"logsumexp ax{axis}", lambda axis=axis: fa.logsumexp(x, axis=axis)
        g = grad_outputs(x.ravel()).reshape(x.shape)
        g = np.where(np.isfinite(g), g, 1).astype(x.dtype)
        y = fa.softmax(x, axis=axis)
        ly = fa.log_softmax(x, axis=axis)
        yield f"softmax_grad ax{axis}", lambda axis=axis, y=y, g=g: fa.softmax_grad(y, g, axis=axis)
        yield f"log_softmax_grad ax{axis}", lambda axis=axis, y=ly, g=g: fa.log_softmax_grad(y, g, axis=axis)
        yield f"logsumexp_grad ax{axis}", lambda axis=axis: fa.logsumexp_grad(x, None, axis=axis)
    yield "logsumexp all", lambda: fa.logsumexp(x)


def bce_cases(x):
    rng = np.random.default_rng(78)
    y = rng.random(x.shape).astype(x.dtype)
    pw = rng.random(x.shape[-1]).astype(x.dtype) * 3
    w = rng.random(x.shape).astype(x.dtype)
    for red in ("none", "sum", "mean"):
        yield f"bce {red}", lambda red=red: fa.binary_cross_entropy_with_logits(x, y, w, pw, reduction=red)
        yield f"bce_grad {red}", lambda red=red: fa.binary_cross_entropy_with_logits_grad(x, y, None, w, pw,
                                                                                         reduction=red)


def run(isa, each):
    fa.set_isa(isa)
    total = hashlib.sha256()
    lines = []
    for dtype in (np.float32, np.float64):
        x = element_inputs(dtype)
        cases = [(lbl, (lambda fn=fn: fn(x))) for lbl, fn in elementwise_cases()]
        for rx, rlabel in reduction_inputs(dtype):
            cases += [(f"{lbl} {rlabel}", fn) for lbl, fn in reduction_cases(rx)]
        xb = element_inputs(dtype)[:4096].reshape(64, 64)     # binades: many infinite losses
        cases += [(f"{lbl} binades", fn) for lbl, fn in bce_cases(xb)]
        xf = np.random.default_rng(90).uniform(-50, 50, (64, 64)).astype(dtype)
        cases += [(f"{lbl} finite", fn) for lbl, fn in bce_cases(xf)]
        for label, fn in cases:
            with np.errstate(all="ignore"):
                res = fn()
            h = hashlib.sha256()
            digest(h, res)
            total.update(label.encode() + h.digest())
            if each:
                lines.append(f"{isa} {np.dtype(dtype).name} {label}: {h.hexdigest()[:16]}")
    return total.hexdigest(), lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--each", action="store_true", help="print one hash per function and ISA too")
    ap.add_argument("--isa", action="append", help="only these variants (default: all available)")
    args = ap.parse_args(argv)
    before = fa.simd_info()["current"]
    threads = fa.get_num_threads()
    fa.set_num_threads(1)
    combined = hashlib.sha256()
    try:
        for isa in args.isa or fa.simd_info()["available"]:
            digest_hex, lines = run(isa, args.each)
            for line in lines:
                print(line)
            print(f"{isa}: {digest_hex}")
            combined.update(isa.encode() + bytes.fromhex(digest_hex))
    finally:
        fa.set_isa(before)
        fa.set_num_threads(threads)
    print(f"all: {combined.hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
