"""Per-CPU tunings (src_c/fa_common.h) change the speed only, never a bit of a result.

fa_tune_scalef_tiny (on for AMD cores) sends the AVX-512 exps' lanes whose result is
subnormal or 0 through vscalefps / vscalefpd instead of the integer-side rounding they
otherwise branch to.  Every public kernel here runs with the tuning off and on, on every
variant (it acts on AVX-512 only; elsewhere both runs take the same code), on inputs whose
exps land in and below the subnormals: -inf entries, mask values (-1e9), spread rows
(+-800), far-off maxima.  The results of either setting are held to mpmath by the accuracy
tests (which run with the CPU's own setting); here the two must agree bit for bit.
(fa_tune_softmax_overlap has its own tests in test_reductions.py.)
"""
import numpy as np
import pytest

import fastact as fa
from fastact._registry import GRADIENTS

from activations import CASES, DTYPES, assert_same_bits, call, case_id, inputs
from test_gradients import grad_fn

DTYPE_IDS = [np.dtype(d).name for d in DTYPES]


def both_settings(f):
    """f() with the tuning off, then on (restored after): the two results."""
    before = fa.kernels._set_scalef_tiny(None)
    try:
        fa.kernels._set_scalef_tiny(False)
        off = f()
        fa.kernels._set_scalef_tiny(True)
        on = f()
    finally:
        fa.kernels._set_scalef_tiny(before)
    return off, on


def assert_tuning_keeps_bits(f, what):
    off, on = both_settings(f)
    if not isinstance(off, tuple):
        off, on = (off,), (on,)
    for a, b in zip(off, on):
        assert_same_bits(np.asarray(b), np.asarray(a), f"{what}: scalef_tiny on against off")


FAR = (-np.inf, -1e9, -1e15, -1e30, -3e38)      # mask values and beyond: every exp 0


def deep_values(dtype, rng, n=4096):
    """Entries whose exps underflow: the sweep of the domain's binades is in `inputs`; these
    are a spread band, the far-negative ones (some just below the subnormals, in the same
    vectors as far ones: the deep and the gone lanes of one vector), -inf and mask values
    down to -3e38, shuffled."""
    big = 800.0 if dtype == np.float64 else 120.0
    v = np.concatenate([rng.uniform(-big, big, n // 2), rng.normal(0, 3, n // 4),
                        -rng.uniform(60, 2 * big, n // 8), rng.choice(FAR, n // 8)])
    return rng.permutation(np.resize(v, n)).astype(dtype)


def test_the_tuning_is_reported_and_settable(capsys):
    before = fa.kernels._set_scalef_tiny(None)
    try:
        assert fa.kernels._set_scalef_tiny(not before) == before
        assert fa.kernels._set_scalef_tiny(None) == (not before)
        fa.kernels._set_scalef_tiny(before)
        fa.show_config()
        line = [s for s in capsys.readouterr().out.splitlines() if "subnormal and zero exps" in s]
        assert len(line) == 1 and ("through vscalef" in line[0]) == before
    finally:
        fa.kernels._set_scalef_tiny(before)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_activations(case, dtype, isa):
    entry, params = case
    rng = np.random.default_rng(7)
    x = np.concatenate([inputs(entry.kernel, dtype, n=1024), deep_values(dtype, rng)])
    lo, hi = entry.domain
    x = x[(x >= lo) & (x <= hi) | np.isnan(x)]
    assert_tuning_keeps_bits(lambda: call(entry, x, params), f"{case_id(case)} {np.dtype(dtype).name}")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("entry", GRADIENTS, ids=lambda g: g.kernel)
def test_gradients(entry, dtype, isa):
    f = grad_fn(entry)
    rng = np.random.default_rng(8)
    x = deep_values(dtype, rng)
    if entry.kernel.startswith("logit"):
        x = rng.uniform(0, 1, x.size).astype(dtype)
    elif entry.kernel.endswith("from_output"):
        x = np.tanh(x) if entry.kernel.startswith("tanh") else 1 / (1 + np.exp(-x.astype(np.float64)))
        x = x.astype(dtype)
    g = (np.cos(np.arange(x.size)) * np.exp(rng.uniform(-30, 30, x.size))).astype(dtype)
    assert_tuning_keeps_bits(lambda: (f(x, g), f(x)), f"{entry.kernel} {np.dtype(dtype).name}")


def reduction_inputs(dtype):
    """Slices of the kinds whose exps go deep, 300 and 4100 entries wide (one chunk, several),
    one kind per array (along axis 0 a column block then holds one kind: N(0, 3) columns with
    far entries take the float32 e^x sums, whose maxima must lie in [-80, 64])."""
    rng = np.random.default_rng(9)
    out = []
    for n in (300, 4100):
        lp = rng.normal(0, 3, (3, n))
        kinds = [np.array([deep_values(dtype, rng, n) for _ in range(3)]),
                 rng.uniform(-50, 50, (3, n)), rng.normal(0, 3, (3, n)) + 100, rng.normal(0, 3, (3, n)) - 300,
                 lp - np.log(np.exp(lp - lp.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))
                 - lp.max(axis=1, keepdims=True)]                                  # normalised: cancels
        for far in (FAR[:2], FAR):           # -1e8 .. -1e9 (the e^x sums finite) and all of them
            near = rng.normal(0, 3, (3, n)) - 20             # maxima near -13: the e^x sums' range
            near[:, ::3] = rng.uniform(-100, -65, near[:, ::3].shape)     # deep lanes beside
            near[:, 1::3] = rng.choice(far + (-1e8,), near[:, 1::3].shape)  # gone ones
            kinds.append(near)
        out += [k.astype(dtype) for k in kinds]
    return out


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_reductions_and_their_gradients(dtype, axis, isa):
    for x in reduction_inputs(dtype):
        x = x if axis == -1 else np.ascontiguousarray(x.T)
        where = np.random.default_rng(1).random(x.shape) < 0.9
        b = np.abs(np.cos(np.arange(x.size))).reshape(x.shape).astype(dtype)
        g = np.sin(np.arange(x.size)).reshape(x.shape).astype(dtype)
        what = f"{np.dtype(dtype).name} {x.shape} axis {axis}"

        def run():
            y = fa.softmax(x, axis=axis)
            q = fa.log_softmax(x, axis=axis)
            return (y, q, fa.softmax(x, axis=axis, where=where), fa.log_softmax(x, axis=axis, where=where),
                    fa.logsumexp(x, axis=axis), fa.logsumexp(x, axis=axis, b=b - 0.3, return_sign=True)[0],
                    fa.logsumexp(x, axis=axis, where=where),
                    fa.softmax_grad(y, g, axis=axis), fa.log_softmax_grad(q, g, axis=axis),
                    fa.logsumexp_grad(x, fa.logsumexp(x, axis=axis, keepdims=True), axis=axis))
        assert_tuning_keeps_bits(run, what)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_losses(dtype, isa):
    for x in reduction_inputs(dtype):
        rng = np.random.default_rng(3)
        target = rng.integers(0, x.shape[1], x.shape[0])
        probs = rng.dirichlet(np.ones(x.shape[1]), x.shape[0]).astype(dtype)
        y01 = rng.random(x.shape).astype(dtype)

        def run():
            loss, grad = fa.cross_entropy(x, target, reduction="none", label_smoothing=0.1, return_grad=True)
            return (loss, grad, fa.cross_entropy(x, probs, reduction="none"),
                    fa.cross_entropy_grad(x, target, reduction="sum", grad_output=1e4),
                    fa.nll_loss(fa.log_softmax(x, axis=-1), target, reduction="none"),
                    fa.binary_cross_entropy_with_logits(x, y01, reduction="none"),
                    fa.binary_cross_entropy_with_logits_grad(x, y01, reduction="none"))
        assert_tuning_keeps_bits(run, f"{np.dtype(dtype).name} {x.shape}")
