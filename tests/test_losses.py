"""cross_entropy (+ return_grad), cross_entropy_grad and nll_loss (src_c/losses/fa_cross_entropy.h,
fastact/_losses.py).

Checked on every kernel variant: each row's loss against mpmath (registry LOSSES: reference,
ulp) for both dtypes, every option combination against a slow NumPy reference written here
(float64, math.fsum), torch where installed, central finite differences for the gradient over
every option combination, return_grad against the separate calls, the special cases (every
target ignored, masked vocabularies with label smoothing, xlogy, huge logits), 1/2/3 threads
bit for bit, and the errors (raised before anything is written, inputs untouched).
"""
import functools
import itertools
import math

import numpy as np
import pytest

import fastact as fa
from fastact._registry import LOSS_BY_NAME
from fastact._ulp import hi_lo

import ulp

CE = LOSS_BY_NAME["cross_entropy"]
NLL = LOSS_BY_NAME["nll_loss"]
DTYPES = (np.float32, np.float64)
REDUCTIONS = ("none", "mean", "sum")
SMOOTHING = (0.0, 0.3, 1.0)

try:
    import torch
    import torch.nn.functional as F
except ImportError:                                  # the torch comparisons skip cleanly
    torch = None


# ---- the slow NumPy reference (float64, one row at a time, no shared code) -------------------

def slow_row(row, target, weight, eps):
    """One row's loss: class target (int) or probabilities (array); weight an array or None.
    log_softmax_j = (x_j - m) - l, l = log1p(sum of e^(x - m) but one max entry): no cancellation."""
    row = np.asarray(row, np.float64)
    n = row.size
    w = np.ones(n) if weight is None else np.asarray(weight, np.float64)
    fin = row > -np.inf
    cnt = int(fin.sum())
    if cnt:
        m = row[fin].max()
        terms = np.exp(row[fin] - m)
        terms[np.argmax(row[fin])] = 0.0
        l = math.log1p(math.fsum(terms.tolist()))
        nlp = np.where(fin, (m - np.where(fin, row, m)) + l, np.inf)     # -log_softmax
    else:
        nlp = np.full(n, np.nan)
    if np.ndim(target) == 0:
        k = (1 - eps) * w[target]
        loss = k * nlp[target] if k != 0 else 0.0
        if eps and cnt:
            loss += eps / cnt * math.fsum((w[fin] * nlp[fin]).tolist())
        return loss
    p = (1 - eps) * np.asarray(target, np.float64) + np.where(fin, eps / max(cnt, 1), 0.0)
    return math.fsum([w[j] * p[j] * nlp[j] for j in range(n) if w[j] * p[j] != 0])


def slow_ce(x, target, axis=-1, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    x = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    prob = np.asarray(target).dtype.kind == "f"
    t = np.moveaxis(np.asarray(target), axis, -1) if prob else np.asarray(target)
    rows = x.reshape(-1, x.shape[-1])
    ts = t.reshape(-1, x.shape[-1]) if prob else t.reshape(-1)
    losses, denom = [], 0.0
    for r in range(rows.shape[0]):
        if not prob and ts[r] == ignore_index:
            losses.append(0.0)
            continue
        losses.append(slow_row(rows[r], ts[r], weight, label_smoothing))
        denom += 1.0 if prob or weight is None else float(weight[ts[r]])
    losses = np.array(losses).reshape(x.shape[:-1])
    if reduction == "none":
        return losses
    s = math.fsum(losses.ravel().tolist())
    if reduction == "sum":
        return s
    return s / denom if denom else 0.0


def case(seed, shape=(6, 9), axis=-1, masked=False, confident=False, ignore=False, prob=False):
    """logits, class targets (or probabilities), weights; optional -inf classes (never the
    target), a dominant target logit, ignored rows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, shape)
    n = shape[axis]
    lshape = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
    t = rng.integers(0, n, lshape)
    xm = np.moveaxis(x, axis, -1)
    tt = t.reshape(-1)
    flat = xm.reshape(-1, n)
    if confident:
        flat[np.arange(flat.shape[0]), tt] += 12.0
    if masked:
        for r in range(flat.shape[0]):
            cls = [c for c in range(n) if c != tt[r]][:n // 3]
            flat[r, cls] = -np.inf
    x = np.moveaxis(flat.reshape(xm.shape), -1, axis)
    if ignore and t.size > 1:
        t.reshape(-1)[::3] = -100
    w = rng.uniform(0.2, 2.0, n)
    if prob:
        p = rng.dirichlet(np.ones(n), flat.shape[0])
        p[:, ::4] = 0.0                                   # zeros, also on -inf logits
        if masked:
            p[np.isneginf(flat)] = 0.0
        p /= p.sum(axis=1, keepdims=True)
        t = np.moveaxis(p.reshape(xm.shape), -1, axis)
    return np.ascontiguousarray(x), t, w


OPTIONS = list(itertools.product(REDUCTIONS, (False, True), SMOOTHING, (False, True)))   # red, weight, eps, masked


@pytest.mark.parametrize("reduction,weighted,eps,masked", OPTIONS)
@pytest.mark.parametrize("prob", (False, True))
def test_every_option_against_the_slow_reference(isa, reduction, weighted, eps, masked, prob):
    for seed, (shape, axis) in enumerate((((6, 9), -1), ((3, 5, 4), 1), ((2, 3, 7), 2), ((7,), 0))):
        x, t, w = case(seed, shape, axis, masked=masked, confident=seed == 1, ignore=not prob, prob=prob)
        for dtype in DTYPES:
            xd = x.astype(dtype)
            wt = w.astype(dtype) if weighted else None          # float64 weights would promote
            got = fa.cross_entropy(xd, t.astype(dtype) if prob else t, axis=axis, weight=wt, reduction=reduction,
                                   label_smoothing=eps)
            ref = slow_ce(xd, t.astype(dtype) if prob else t, axis, wt, -100, reduction, eps)
            tol = 4e-7 if dtype == np.float32 else 2e-15
            assert np.asarray(got).dtype == dtype
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * 1e-3)


@functools.lru_cache(maxsize=None)
def exact_rows(dtype, weighted, eps, kind):
    """(x, targets, weight, per-row mpmath losses as hi, lo) of a sweep of rows in dtype."""
    import mpmath
    with mpmath.workdps(50):
        return _exact_rows(mpmath, dtype, weighted, eps, kind)


def _exact_rows(mp, dtype, weighted, eps, kind):
    rng = np.random.default_rng(11)
    n = 37
    rows = [rng.normal(0, 3, n), rng.normal(0, 3, n) - 20, rng.normal(0, 3, n) + 100, rng.uniform(-50, 50, n),
            rng.normal(0, 1e-3, n), np.full(n, 1e30), rng.normal(0, 300, n), rng.normal(0, 3, n) * 1e-8]
    conf = rng.normal(0, 3, n)
    conf[5] += 30.0
    rows += [conf, rng.normal(0, 3, 1000)[:n] * 10]
    masked = rng.normal(0, 3, n)
    masked[[1, 2, 9, 30]] = -np.inf
    rows.append(masked)
    x = np.array(rows).astype(dtype)
    t = np.arange(len(rows)) * 7 % n
    t[-1] = 5
    t[8] = 5
    w = rng.uniform(0.2, 2.0, n).astype(dtype) if weighted else None
    p = None
    if kind == "prob":
        p = rng.dirichlet(np.ones(n), len(rows)).astype(dtype)
        p[:, ::5] = 0
        p[-1, [1, 2, 9, 30]] = 0
    ref = NLL.reference if kind == "nll" else CE.reference
    exact = []
    for r in range(len(rows)):
        row = [mp.mpf(float(v)) if np.isfinite(v) else -mp.inf for v in x[r]]
        wl = None if w is None else [float(v) for v in w]
        target = [float(v) for v in p[r]] if p is not None else int(t[r])
        exact.append(ref(mp, row, target, wl, eps))
    hi, lo = hi_lo(exact)
    return x, (p if p is not None else t), w, hi, lo


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted,eps,kind", [(False, 0.0, "class"), (True, 0.0, "class"), (False, 0.1, "class"),
                                                (True, 0.7, "class"), (False, 0.0, "prob"), (True, 0.2, "prob"),
                                                (True, 0.0, "nll"), (False, 0.0, "nll")])
def test_each_row_within_its_ulp_bound_of_mpmath(isa, dtype, weighted, eps, kind):
    x, t, w, hi, lo = exact_rows(dtype, weighted, eps, kind)
    if kind == "nll":
        got = fa.nll_loss(x, t, weight=w, reduction="none")
        bound = NLL.ulp
    else:
        got = fa.cross_entropy(x, t, weight=w, reduction="none", label_smoothing=eps)
        bound = CE.ulp
        if kind == "class":     # the fused gradient kernel's loss is the same
            loss, _ = fa.cross_entropy(x, t, weight=w, reduction="none", label_smoothing=eps, return_grad=True)
            assert loss.tobytes() == got.tobytes()
    err = ulp.ulp_errors(got, hi, lo, dtype)
    assert err.max() <= bound, (err.max(), int(err.argmax()))


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("reduction,weighted,eps,masked", [o for o in OPTIONS if not o[3]])
@pytest.mark.parametrize("prob", (False, True))
def test_agrees_with_torch(reduction, weighted, eps, prob, masked):
    x, t, w, = case(3, (4, 6, 5), 1, ignore=not prob, prob=prob)
    tt = torch.tensor(t)
    X = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w) if weighted else None
    ref = F.cross_entropy(X, tt, weight=wt, reduction=reduction, label_smoothing=eps)
    ref.sum().backward()
    kw = dict(axis=1, weight=w if weighted else None, reduction=reduction, label_smoothing=eps)
    loss, grad = fa.cross_entropy(x, t, return_grad=True, **kw)
    np.testing.assert_allclose(loss, ref.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grad, X.grad.numpy(), rtol=1e-12, atol=1e-15)
    if not prob and eps == 0.0:
        lp = F.log_softmax(torch.tensor(x), dim=1)
        nref = F.nll_loss(lp, tt, weight=wt, reduction=reduction)
        np.testing.assert_allclose(fa.nll_loss(lp.numpy(), t, axis=1, weight=kw["weight"], reduction=reduction),
                                   nref.numpy(), rtol=1e-14, atol=1e-15)


def central_difference(f, x, h=1e-4):
    """The five-point central difference (truncation ~h^4, rounding ~1e-16 |f| / h)."""
    g = np.zeros_like(x)
    for i in range(x.size):
        at = []
        for k in (2, 1, -1, -2):
            z = x.copy()
            z.flat[i] += k * h
            at.append(f(z))
        g.flat[i] = (-at[0] + 8 * at[1] - 8 * at[2] + at[3]) / (12 * h)
    return g


@pytest.mark.parametrize("reduction,weighted,eps,masked", OPTIONS)
@pytest.mark.parametrize("prob", (False, True))
def test_gradient_matches_finite_differences(isa, reduction, weighted, eps, masked, prob):
    x, t, w = case(5, (3, 5, 2), 1, masked=masked, ignore=not prob, prob=prob)
    kw = dict(axis=1, weight=w if weighted else None, reduction=reduction, label_smoothing=eps)
    rng = np.random.default_rng(1)
    go = rng.normal(size=(3, 2)) if reduction == "none" else 0.7
    grad = fa.cross_entropy_grad(x, t, grad_output=go, **kw)
    fin = np.isfinite(x)

    def f(z):
        return np.sum(go * slow_ce(np.where(fin, z, -np.inf), t, 1, kw["weight"], -100, reduction, eps))
    fd = central_difference(f, np.where(fin, x, 0.0))
    assert np.all(grad[~fin] == 0)                       # masked classes: exactly 0
    scale = np.abs(fd).max()
    assert np.abs(grad - np.where(fin, fd, 0.0)).max() <= 1e-7 * scale, np.abs(grad - fd).max() / scale
    if not prob:                                         # ignored rows get 0
        ignored = np.broadcast_to((t == -100)[:, None, :], x.shape)
        assert np.all(grad[ignored] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_return_grad_is_the_forward_and_the_gradient(isa, dtype, reduction):
    x, t, w = case(7, (40, 300), -1, confident=True, ignore=True)
    x = x.astype(dtype)
    for kw in (dict(), dict(weight=w.astype(dtype), label_smoothing=0.2)):
        loss, grad = fa.cross_entropy(x, t, reduction=reduction, return_grad=True, **kw)
        ref_loss = fa.cross_entropy(x, t, reduction=reduction, **kw)
        assert np.asarray(loss).tobytes() == np.asarray(ref_loss).tobytes()
        assert grad.tobytes() == fa.cross_entropy_grad(x, t, reduction=reduction, **kw).tobytes()
        assert grad.dtype == dtype and grad.shape == x.shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_of_large_rows_against_float64(isa, dtype):
    """Rows past the float32 stored path (> 2^16 classes) and huge logits (the float64-lane path)."""
    rng = np.random.default_rng(3)
    for x in (rng.normal(0, 3, (2, 70000)), rng.normal(0, 3, (3, 1000)) * 200):
        t = rng.integers(0, x.shape[1], x.shape[0])
        x = x.astype(dtype)
        g = fa.cross_entropy_grad(x, t, reduction="sum", label_smoothing=0.1)
        xd = x.astype(np.float64)
        p = np.exp(xd - xd.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        ref = p - 0.1 / x.shape[1]
        ref[np.arange(x.shape[0]), t] -= 0.9
        tol = 1e-6 if dtype == np.float32 else 1e-14
        np.testing.assert_allclose(g, ref, rtol=0, atol=tol)


@pytest.mark.parametrize("n", [16 * 4096 + 1, 300007])
def test_class_rows_longer_than_the_stored_path(isa, n):
    """float32 class-target rows (no smoothing, no probabilities: fa_ce_class_stats_f32) of more
    than 16 L1 chunks, past the stored path: the pass wrote each chunk's shift into a 16-entry
    stack array whether or not it stored the terms, so such rows overran it (rows of 300007
    crashed the forward and the gradient).  Loss and gradient against float64."""
    rng = np.random.default_rng(n)
    x = rng.normal(0, 3, (3, n)).astype(np.float32)
    t = rng.integers(0, n, 3)
    xd = x.astype(np.float64)
    M = xd.max(axis=1, keepdims=True)
    lse = M[:, 0] + np.log(np.exp(xd - M).sum(axis=1))
    loss = fa.cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(loss, lse - xd[np.arange(3), t], rtol=1e-6)
    lo, g = fa.cross_entropy(x, t, reduction="sum", return_grad=True)
    ref = np.exp(xd - lse[:, None])
    ref[np.arange(3), t] -= 1.0
    np.testing.assert_allclose(g, ref, rtol=0, atol=1e-7)
    np.testing.assert_allclose(fa.cross_entropy_grad(x, t, reduction="sum"), g, rtol=0, atol=0)
    assert np.isclose(lo, loss.sum(), rtol=1e-6)


def _class_rows_one_pass():
    """float32 rows for the class-target pass without a max pass (fa_ce_class_stats_f32): several
    L1 chunks, the target's chunk summed again where another entry is > 87 above the target, the
    target dominant by 30 and by 100 (S / e^(x_t) < 2^-80: the terms again in double), a chunk of
    -inf, the target -inf, ties with the target, lengths around the 4-vector blocks, a chunk whose
    outputs are normal but whose factor (its shift far below the max) is not."""
    rng = np.random.default_rng(29)
    n = 2 * 4096 + 70
    rows, targets = [], []
    for kind in range(10):
        x = rng.normal(0, 3, n)
        t = int(rng.integers(0, n))
        if kind == 1:
            x[t] = -95.0                           # every chunk summed again (max ~ +12)
        elif kind == 2:
            x[t] += 30.0
        elif kind == 3:
            x[t] += 100.0
        elif kind == 4:
            x[4096:8192] = -np.inf
            t = 5
        elif kind == 5:
            x[t] = -np.inf                         # loss inf
        elif kind == 6:
            x[[3, 4100, 8200]] = x[t] = 11.0       # ties with the target
        elif kind == 7:
            x[-1] = 200.0                          # the last chunk's max far above the target
        elif kind == 8:
            x *= 1e-6
        elif kind == 9:                            # the target's chunk kept at the target's shift,
            t = 5                                  # whose outputs (~e^-20) take a factor ~e^-100:
            x[t] = 0.0                             # below float32's normal range (2% off before)
            x[10:60] = 80.0 + rng.normal(0, 1, 50)
            x[-1] = 100.0
        rows.append(x)
        targets.append(t)
    return np.array(rows), np.array(targets)


def test_class_rows_without_a_max_pass_against_mpmath(isa):
    import mpmath
    x, t = _class_rows_one_pass()
    x = x.astype(np.float32)
    exact = []
    with mpmath.workdps(40):
        for r in range(x.shape[0]):
            row = [mpmath.mpf(float(v)) if np.isfinite(v) else -mpmath.inf for v in x[r]]
            exact.append(CE.reference(mpmath, row, int(t[r]), None, 0.0))
    hi, lo = hi_lo(exact)
    for m in (65, 64, 63, 37, 1):                 # short rows: the blocks' tail, a lone class
        xs = np.ascontiguousarray(x[:3, :m])
        ts = t[:3] % m
        got = fa.cross_entropy(xs, ts, reduction="none")
        ref = [slow_row(xs[r], int(ts[r]), None, 0.0) for r in range(3)]
        np.testing.assert_allclose(got, ref, rtol=2.5e-7, atol=0)
    got = fa.cross_entropy(x, t, reduction="none")
    err = ulp.ulp_errors(got, hi, lo, np.float32)
    assert err.max() <= CE.ulp, (err.max(), int(err.argmax()))
    loss, grad = fa.cross_entropy(x, t, reduction="none", return_grad=True)
    assert loss.tobytes() == got.tobytes()
    xd = x.astype(np.float64)
    fin = np.isfinite(xd[:, t].diagonal())
    p = np.exp(xd - xd.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    other = p.sum(axis=1) - p[np.arange(len(t)), t]
    ref = p.copy()
    ref[np.arange(len(t)), t] = -other / p.sum(axis=1)      # -(1 - softmax_t), no cancelling
    np.testing.assert_allclose(grad[fin], ref[fin], rtol=4e-7, atol=2e-38)


def test_gradient_of_wide_float32_class_rows(isa):
    """float32 class rows spread over +-120 (the target's chunk shift far below the row max):
    normal gradient entries within 4 ULP of the float64 formula (18.9 ULP before: the chunk
    factor, below float32's normal range, had lost its bits), subnormal ones within one
    smallest normal (SPEC section 6)."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-120, 120, (64, 1000)).astype(np.float32)
    t = rng.integers(0, 1000, 64)
    g = fa.cross_entropy_grad(x, t)
    xd = x.astype(np.float64)
    ref = np.exp(xd - xd.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    ref[np.arange(64), t] -= 1.0
    ref /= 64
    tiny = np.finfo(np.float32).tiny
    normal = np.abs(ref) >= tiny
    assert (np.abs(g - ref)[normal] <= 4 * np.spacing(np.abs(ref[normal]).astype(np.float32))).all()
    assert (np.abs(g - ref)[~normal] <= tiny).all()


# rows [0, c, ..., c] of 1000 classes where the loss of target 0 was furthest off on AVX-512
# (2.17-2.24 ULP, a search over 40000 rows): every term of S carries the same exp error
CE_EQUAL_TERMS_WORST = [float.fromhex(h) for h in (
    "-0x1.628414p+4", "-0x1.14e838p+4", "-0x1.8ee492p+4", "-0x1.576d7cp+4", "-0x1.78ae5ap+4", "-0x1.fd6770p+3")]


def test_dominant_target_over_equal_terms(isa):
    """loss = log1p((n - 1) e^c) for rows [0, c, ..., c] and target 0, S's mantissa near 2 (where
    its relative error is the most ULPs of the loss); exact in long double.  The class rows'
    faster exp (0.98 ULP) measured 2.24 ULP here; the bound is the registry's."""
    n = 1000
    rng = np.random.default_rng(17)
    k = rng.integers(-28, -12, 1500)
    c = np.log(2.0 ** k * rng.uniform(1.93, 1.9999, k.size) / (n - 1)).astype(np.float32)
    c = np.concatenate([np.array(CE_EQUAL_TERMS_WORST, np.float32), c])
    x = np.repeat(c[:, None], n, axis=1)
    x[:, 0] = 0.0
    got = fa.cross_entropy(x, np.zeros(len(c), np.int64), reduction="none").astype(np.longdouble)
    want = np.log1p((n - 1) * np.exp(c.astype(np.longdouble)))
    err = np.abs(got - want) / np.spacing(want.astype(np.float32)).astype(np.longdouble)
    assert err.max() <= CE.ulp, (float(err.max()), int(err.argmax()))
    assert err.max() > 1.0          # the rows reach past a rounding on every variant (1.43, 2.24)


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_rows_with_smoothing_and_probabilities(isa, dtype):
    """Rows of several L1 chunks (float32: the smoothing / probability sums are taken per chunk
    inside the statistics pass and rebased on the running max): rising and falling chunk maxima,
    a chunk of -inf logits, weights."""
    rng = np.random.default_rng(21)
    n = 3 * 4096 + 77
    x = rng.normal(0, 3, (4, n))
    x[0, :4096] += 20.0                      # the first chunk holds the max
    x[1, -100:] += 20.0                      # the last one does
    x[2, 4096:8192] = -np.inf                # a masked chunk
    x[3] *= 1e-3
    t = np.array([5, n - 3, 9000 % 4096, 7])
    w = rng.uniform(0.2, 2.0, n)
    p = rng.dirichlet(np.ones(n), 4)
    p[2, 4096:8192] = 0.0
    x, w, p = x.astype(dtype), w.astype(dtype), p.astype(dtype)
    tol = 3e-7 if dtype == np.float32 else 4e-15
    for wt in (None, w):
        for eps in (0.0, 0.2):
            got = fa.cross_entropy(x, t, weight=wt, label_smoothing=eps, reduction="none")
            ref = [slow_row(x[r], t[r], wt, eps) for r in range(4)]
            np.testing.assert_allclose(got, ref, rtol=tol)
            got = fa.cross_entropy(x, p, weight=wt, label_smoothing=eps, reduction="none")
            ref = [slow_row(x[r], p[r], wt, eps) for r in range(4)]
            np.testing.assert_allclose(got, ref, rtol=tol)


# ---- special cases ------------------------------------------------------------------------------

def test_every_target_ignored_with_mean_is_zero():
    x = np.random.default_rng(0).normal(size=(4, 5))
    t = np.full(4, -100)
    assert fa.cross_entropy(x, t) == 0.0
    assert fa.nll_loss(x, t) == 0.0
    assert np.all(fa.cross_entropy_grad(x, t) == 0)
    assert fa.cross_entropy(x, np.array([-100, 2, -100, -100]), ignore_index=-100) == pytest.approx(
        slow_ce(x[1:2], [2]), rel=1e-15)
    assert fa.cross_entropy(x, np.array([3, 1, 3, 0]), ignore_index=3, reduction="sum") == pytest.approx(
        slow_ce(x[[1, 3]], [1, 0], reduction="sum"), rel=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
def test_label_smoothing_over_a_masked_vocabulary_is_finite(isa, dtype):
    x = np.array([[2.0, -np.inf, 0.5, -np.inf, 1.0]], dtype)
    got = fa.cross_entropy(x, np.array([0]), label_smoothing=0.25, reduction="none")
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, [slow_row(x[0].astype(np.float64), 0, None, 0.25)], rtol=4e-7)
    g = fa.cross_entropy_grad(x, np.array([0]), label_smoothing=0.25)
    assert np.isfinite(g).all() and g[0, 1] == 0 and g[0, 3] == 0
    assert abs(float(g.sum())) < 1e-6                   # the row's gradient sums to 0


def test_a_zero_probability_on_a_minus_inf_logit_contributes_zero():
    x = np.array([[0.0, -np.inf, 1.0]])
    p = np.array([[0.5, 0.0, 0.5]])
    got = fa.cross_entropy(x, p, reduction="none")
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, [slow_row(x[0], p[0], None, 0.0)], rtol=1e-15)
    assert np.isfinite(fa.cross_entropy_grad(x, p)).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_probability_on_a_minus_inf_logit_makes_the_loss_inf(isa, dtype):
    """p > 0 on a -inf logit: that term is p (lse - (-inf)) = +inf, so the row's loss is +inf,
    as torch gives (it was NaN: the compensated sums' two-sum errors are inf - inf); with
    weights and smoothing too, and 'sum' / 'mean' over such a row are +inf."""
    x = np.array([[0.0, 1.0, -np.inf], [0.5, -1.0, 2.0]], dtype)
    p = np.array([[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]], dtype)
    for w in (None, np.array([1.0, 2.0, 0.5], dtype)):
        for eps in (0.0, 0.1):
            got = fa.cross_entropy(x, p, weight=w, label_smoothing=eps, reduction="none")
            assert got[0] == np.inf and np.isfinite(got[1])
            np.testing.assert_allclose(got[1], slow_row(x[1].astype(np.float64), p[1], w, eps), rtol=4e-7)
            assert fa.cross_entropy(x, p, weight=w, label_smoothing=eps, reduction="sum") == np.inf
            assert fa.cross_entropy(x, p, weight=w, label_smoothing=eps, reduction="mean") == np.inf
    n = 70000                                    # a float32 row of many L1 chunks, the -inf in one
    xl = np.random.default_rng(4).normal(0, 1, n).astype(dtype)
    xl[40000] = -np.inf
    pl = np.full(n, 1.0 / n, dtype)
    assert fa.cross_entropy(xl, pl, reduction="none") == np.inf


@functools.lru_cache(maxsize=None)
def _long_float64_rows():
    """Rows of 30000 float64 logits (tiny spread: the sums of w p and w, not the log, carry the
    loss) with probability targets, and with weights and label smoothing; mpmath's losses."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    rng = np.random.default_rng(17)
    n = 30000
    x = rng.normal(0, 1e-3, (2, n))
    p = rng.random(n)
    w = rng.random(n)
    xs = [[mp.mpf(float(v)) for v in row] for row in x]
    lse = [mp.log(mp.fsum(mp.exp(v) for v in row)) for row in xs]
    prob = mp.fsum(mp.mpf(float(p[i])) * (lse[0] - xs[0][i]) for i in range(n))
    t, eps = 7, 0.6
    smooth = (1 - eps) * mp.mpf(float(w[t])) * (lse[1] - xs[1][t]) + eps / n * mp.fsum(
        mp.mpf(float(w[i])) * (lse[1] - xs[1][i]) for i in range(n))
    return x, p, w, t, eps, [float(prob), float(smooth)]


def test_long_float64_rows_with_probabilities_or_weighted_smoothing_against_mpmath(isa):
    """The loss A + B l (probability targets) and the smoothing term's D + E l carry the relative
    error of B = sum w p and E = sum w: these sums are compensated like A and D (plain sums gave
    15-60 ULP on rows of 70000, differing by variant)."""
    x, p, w, t, eps, want = _long_float64_rows()
    got = [fa.cross_entropy(x[0], p, reduction="none"),
           fa.cross_entropy(x[1], np.array(t), weight=w, label_smoothing=eps, reduction="none")]
    for g, r in zip(got, want):
        assert abs(float(g) - r) <= CE.ulp * np.spacing(abs(r)), (float(g), r)


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_logits_do_not_overflow(isa, dtype):
    x = np.array([[1e30, 1e30, 0.0], [1e30, -1e30, 1e30]], dtype)
    t = np.array([0, 1])
    got = fa.cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(got, [math.log(2), 2e30], rtol=1e-6)
    g = fa.cross_entropy_grad(x, t, reduction="sum")
    np.testing.assert_allclose(g, [[-0.5, 0.5, 0.0], [0.5, -1.0, 0.5]], atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_weight_of_zero_removes_a_row_from_the_loss_and_its_gradient(isa, dtype):
    """A class target of weight 0 contributes 0 to the loss even beside NaN or +inf logits, and
    its gradient row is 0 (was NaN while the loss was 0); a 'mean' whose kept targets' weights
    sum to 0 is 0.0 with a 0 gradient, also with label smoothing (was NaN, with a 0 gradient),
    and NaN where a row's loss is NaN (a differential fuzz of the losses, 2026-12-07)."""
    x = np.array([[np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [1.0, 2.0, 3.0]], dtype)
    t = np.array([0, 0, 1])
    w = np.array([0.0, 1.0, 1.0], dtype)
    loss, grad = fa.cross_entropy(x, t, weight=w, reduction="none", return_grad=True)
    np.testing.assert_array_equal(loss[:2], [0, 0])
    assert loss[2] == pytest.approx(slow_ce(x[2:].astype(np.float64), [1], reduction="none")[0], rel=1e-6)
    np.testing.assert_array_equal(grad[:2], np.zeros((2, 3)))
    np.testing.assert_array_equal(grad, fa.cross_entropy_grad(x, t, weight=w, reduction="none"))
    assert np.all(np.isfinite(grad[2])) and grad[2, 1] < 0
    xs = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], dtype)
    for eps in (0.0, 0.1):
        loss, grad = fa.cross_entropy(xs, np.array([0, 0]), weight=w, label_smoothing=eps, return_grad=True)
        assert loss == 0.0 and np.all(grad == 0)
        assert fa.cross_entropy(xs, np.array([0, 0]), weight=w, label_smoothing=eps) == 0.0
    assert np.isnan(fa.cross_entropy(x[:1], np.array([0]), weight=w, label_smoothing=0.1))


def test_rows_with_nan_or_inf_give_nan_as_torch():
    """NaN / +inf logits: NaN losses and gradient rows, as torch.  Every logit -inf: a NaN loss
    with any label smoothing (1 - eps = 0 gave 0.0), and a gradient row of 0 (every class is
    masked: docs/SPEC.md section 9; torch gives NaN; the row was NaN before 2026-12-06)."""
    x = np.array([[np.nan, 0.0], [np.inf, 0.0], [-np.inf, -np.inf]])
    for eps in (0.0, 0.5, 1.0):
        got = fa.cross_entropy(x, np.array([1, 0, 0]), reduction="none", label_smoothing=eps)
        assert np.isnan(got).all()
        g = fa.cross_entropy_grad(x, np.array([1, 0, 0]), label_smoothing=eps)
        assert np.isnan(g[:2]).all() and np.all(g[2] == 0)
        p = np.array([[0.5, 0.5]] * 3)
        assert np.isnan(fa.cross_entropy(x, p, reduction="none", label_smoothing=eps)).all()
        gp = fa.cross_entropy_grad(x, p, label_smoothing=eps)
        assert np.isnan(gp[:2]).all() and np.all(gp[2] == 0)
    assert fa.cross_entropy(np.array([[np.inf, 0.0]]), np.array([1]), reduction="none")[0] == np.inf


def test_float16_is_computed_in_float32():
    x, t, w = case(2, (5, 8))
    got = fa.cross_entropy(x.astype(np.float16), t, reduction="none")
    assert got.dtype == np.float16
    ref = fa.cross_entropy(x.astype(np.float16).astype(np.float32), t, reduction="none").astype(np.float16)
    assert got.tobytes() == ref.tobytes()
    g = fa.cross_entropy_grad(x.astype(np.float16), t)
    assert g.dtype == np.float16


def test_float16_reduced_losses_overflow_to_inf_without_a_warning():
    """A float16 'sum' / 'mean' beyond float16's range is inf, with no RuntimeWarning (SPEC section
    4; it leaked 'overflow encountered in cast' from the rounding of the float64 sum; fourth
    differential fuzz).  The filterwarnings setting makes any RuntimeWarning an error here."""
    x = np.full((2000, 3), 60000, np.float16)
    x[:, 0] = -60000
    t = np.zeros(2000, np.int64)
    for reduction in ("sum", "mean"):          # each row's loss 120000 (inf in float16)
        for got in (fa.cross_entropy(x, t, reduction=reduction),
                    fa.cross_entropy(x, t, reduction=reduction, return_grad=True)[0]):
            assert type(got) is np.float16 and got == np.inf
    got = fa.nll_loss(x, t, reduction="sum")       # 2000 rows of 60000
    assert type(got) is np.float16 and got == np.inf
    assert fa.nll_loss(x, t, reduction="mean") == np.float16(60000)


def test_unbatched_input():
    x = np.array([1.0, 2.0, 0.5])
    assert fa.cross_entropy(x, 1) == pytest.approx(slow_row(x, 1, None, 0.0), rel=1e-15)
    assert fa.cross_entropy_grad(x, np.int64(1)).shape == (3,)


@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_give_the_same_bits(isa, dtype):
    rng = np.random.default_rng(8)
    x = rng.normal(0, 3, (333, 500)).astype(dtype)
    t = rng.integers(0, 500, 333)
    t[::7] = -100
    p = rng.dirichlet(np.ones(500), 333).astype(dtype)
    w = rng.uniform(0.5, 2, 500).astype(dtype)
    go = rng.normal(size=333).astype(dtype)
    before = fa.get_num_threads()
    results = []
    try:
        for k in (1, 2, 3):
            fa.set_num_threads(k)
            results.append([fa.cross_entropy(x, t, weight=w, label_smoothing=0.1, return_grad=True),
                            fa.cross_entropy(x, t, reduction="none"), fa.cross_entropy(x, p, reduction="sum"),
                            fa.cross_entropy_grad(x, t, reduction="none", grad_output=go),
                            fa.cross_entropy_grad(x, p, weight=w), fa.nll_loss(x, t, reduction="none")])
    finally:
        fa.set_num_threads(before)
    flat = [[np.asarray(v).tobytes() for v in (r[0][0], r[0][1], *r[1:])] for r in results]
    assert flat[0] == flat[1] == flat[2]


# ---- errors (raised before anything is written, inputs untouched) -------------------------------

def test_errors():
    x = np.random.default_rng(0).normal(size=(4, 5))
    x0 = x.copy()
    t = np.array([0, 1, 7, 9])
    t0 = t.copy()
    for fn in (fa.cross_entropy, fa.cross_entropy_grad, fa.nll_loss):
        with pytest.raises(IndexError, match=r"target 7 at position \(2,\) is out of range for 5 classes"):
            fn(x, t)
        with pytest.raises(IndexError, match=r"target -1 at position \(0,\)"):
            fn(x, np.array([-1, 0, 0, 0]))
        # uint64 beyond int64: named, not wrapped (2**64 - 100 wrapped to -100, the default
        # ignore_index, and was silently ignored)
        with pytest.raises(IndexError, match=r"target 18446744073709551516 at position \(2,\)"):
            fn(x, np.array([0, 1, 2**64 - 100, 0], np.uint64))
        with pytest.raises(IndexError, match=r"target 9223372036854775808 at position \(1,\)"):
            fn(x, np.array([0, 2**63, 1, 0], np.uint64))
        with pytest.raises(OverflowError, match=r"ignore_index=1180591620717411303424 does not fit in int64"):
            fn(x, np.zeros(4, int), ignore_index=2**70)
        with pytest.raises(ValueError, match=r"class target of shape \(3,\) must have .* \(4,\)"):
            fn(x, np.zeros(3, int))
        with pytest.raises(ValueError, match="reduction must be one of"):
            fn(x, np.zeros(4, int), reduction="avg")
        with pytest.raises(ValueError, match=r"weight of shape \(4,\)"):
            fn(x, np.zeros(4, int), weight=np.ones(4))
        # integer and bool logits are computed in float64 (SPEC section 2, as every input;
        # they were a TypeError, as torch has it): the float64 call's bits
        for dt in (int, np.uint8, bool):
            xi = x.astype(dt)
            np.testing.assert_array_equal(fn(xi, np.zeros(4, int)), fn(xi.astype(np.float64), np.zeros(4, int)))
        with pytest.raises(TypeError, match="real dtype, not complex128"):
            fn(x.astype(complex), np.zeros(4, int))
        with pytest.raises(TypeError, match="real dtype, not object$"):
            fn(x.astype(object), np.zeros(4, int))
        with pytest.raises(TypeError, match="target must be"):
            fn(x, np.zeros(4, bool))
    with pytest.raises(IndexError, match=r"target 5 at position \(1, 0\)"):
        fa.cross_entropy(np.zeros((2, 5, 3)), np.array([[0, 1, 2], [5, 0, 0]]), axis=1)
    with pytest.raises(ValueError, match=r"probability target of shape \(4, 4\) must have the input's shape \(4, 5\)"):
        fa.cross_entropy(x, np.zeros((4, 4)))
    with pytest.raises(TypeError, match="integer dtype"):
        fa.nll_loss(x, np.zeros((4, 5)))
    for eps in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="label_smoothing must be in"):
            fa.cross_entropy(x, np.zeros(4, int), label_smoothing=eps)
    # a string is not a number (TypeError, as every numeric parameter), a bool is not a class
    # index (as one_hot's num_classes); both were accepted or a ValueError (a newcomer review)
    for fn in (fa.cross_entropy, fa.cross_entropy_grad):
        with pytest.raises(TypeError, match="'label_smoothing' must be a real number, not 'str'"):
            fn(x, np.zeros(4, int), label_smoothing="0.1")
    for fn in (fa.cross_entropy, fa.cross_entropy_grad, fa.nll_loss):
        with pytest.raises(TypeError, match="ignore_index must be an integer, not 'bool'"):
            fn(x, np.zeros(4, int), ignore_index=True)
    with pytest.raises(ValueError, match="grad_output of a reduced loss is a scalar"):
        fa.cross_entropy_grad(x, np.zeros(4, int), grad_output=np.ones(4))
    with pytest.raises(ValueError, match="does not broadcast"):
        fa.cross_entropy_grad(x, np.zeros(4, int), reduction="none", grad_output=np.ones(3))
    assert (x == x0).all() and (t == t0).all()


def _unaligned(a):
    """a copy of a whose data starts one byte past an aligned address (a Dask worker can
    receive such buffers over the network)."""
    buf = np.empty(a.nbytes + 1, np.uint8)
    u = np.frombuffer(buf[1:].data, dtype=a.dtype, count=a.size).reshape(a.shape)
    u[...] = a
    assert not u.flags.aligned
    return u


def test_unaligned_operands_give_the_aligned_results():
    """Unaligned logits, targets, weights, grad_output (the kernels need aligned buffers: the
    sanitizer job caught a misaligned int64 target load): the same bits as aligned copies."""
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((9, 7)) * 3).astype(np.float32)
    t = rng.integers(0, 7, 9)
    w = rng.uniform(0.5, 2, 7).astype(np.float32)
    go = rng.standard_normal(9).astype(np.float32)
    ux, ut, uw, ugo = _unaligned(x), _unaligned(t), _unaligned(w), _unaligned(go)
    np.testing.assert_array_equal(fa.cross_entropy(ux, ut, weight=uw, reduction="none"),
                                  fa.cross_entropy(x, t, weight=w, reduction="none"))
    np.testing.assert_array_equal(fa.cross_entropy_grad(ux, ut, weight=uw, reduction="none", grad_output=ugo),
                                  fa.cross_entropy_grad(x, t, weight=w, reduction="none", grad_output=go))
    np.testing.assert_array_equal(fa.nll_loss(ux, ut, reduction="none"), fa.nll_loss(x, t, reduction="none"))
    y = rng.uniform(size=x.shape).astype(np.float32)
    np.testing.assert_array_equal(
        fa.binary_cross_entropy_with_logits(ux, _unaligned(y), weight=_unaligned(x), pos_weight=uw, reduction="none"),
        fa.binary_cross_entropy_with_logits(x, y, weight=x, pos_weight=w, reduction="none"))
    np.testing.assert_array_equal(fa.one_hot(ut, 7), fa.one_hot(t, 7))


def test_nll_loss_sum_of_opposite_infinities_is_nan_without_a_warning():
    """nll_loss of log_probs holding +inf and -inf picks: 'sum' / 'mean' are NaN (inf - inf) with no
    'invalid value encountered in reduce' RuntimeWarning (SPEC section 4; fourth differential fuzz)."""
    x = np.array([[np.inf, 0.0], [-np.inf, 0.0]])
    t = np.array([0, 0])
    assert np.array_equal(fa.nll_loss(x, t, reduction="none"), [-np.inf, np.inf])
    for reduction in ("sum", "mean"):
        assert np.isnan(fa.nll_loss(x, t, reduction=reduction))


def test_an_empty_python_list_of_class_indices_is_an_empty_batch():
    """`[]` (which np.asarray makes float64) as the labels or class targets of an empty batch was
    a TypeError (one_hot, nll_loss: "must be of an integer dtype") or a ValueError taking it for a
    probability target (cross_entropy and its grad); NumPy's indexing takes `[]` as empty indices
    (np.eye(3)[[]] has shape (0, 3)).  An explicit float ndarray stays a TypeError (fifth fuzz)."""
    x = np.zeros((0, 5))
    assert fa.one_hot([], 3).shape == (0, 3)
    assert fa.one_hot((), 3, dtype=np.float32).dtype == np.float32
    assert fa.one_hot([[], []], 4, axis=0).shape == (4, 2, 0)
    assert fa.cross_entropy(x, []) == 0.0
    assert fa.cross_entropy(x, [], reduction="none").shape == (0,)
    assert fa.cross_entropy_grad(x, []).shape == (0, 5)
    assert fa.nll_loss(x, [], reduction="sum") == 0.0
    assert fa.cross_entropy(np.zeros((2, 0, 3)), [[], []], axis=2, reduction="none").shape == (2, 0)
    with pytest.raises(TypeError, match="integer dtype"):
        fa.one_hot(np.array([]), 3)
    with pytest.raises(TypeError, match="integer dtype"):
        fa.nll_loss(x, np.zeros(0))


@pytest.mark.parametrize("n", [3, 16, 40, 100, 5000])
def test_float32_gradient_with_a_loss_scale_stays_finite(isa, n):
    """A large gradient scale (grad_output x weight x the reduction's factor: a loss scale of
    mixed-precision training, reduction='sum') was folded into the output pass's own scale and
    overflowed it: float32 cross_entropy_grad(..., grad_output=4e8) gave +inf (class targets
    from ~2^28.5; probability targets and label smoothing at every scale above it).  Now the
    float64 computation rounded, within 8 ULP of the larger of its two terms, at every scale."""
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((2, n)) * 2).astype(np.float32)
    cls = np.array([1, 0])
    prob = fa.softmax(rng.standard_normal((2, n)), axis=-1).astype(np.float32)
    x64, p64 = x.astype(np.float64), fa.softmax(x.astype(np.float64), axis=-1)
    for scale in (2.0 ** 20, 2.0 ** 21, 4e8, 2.0 ** 31, 2.0 ** 40, 2.0 ** 100):
        for target, eps in ((cls, 0.0), (cls, 0.1), (prob, 0.0)):
            got = fa.cross_entropy_grad(x, target, reduction="sum", grad_output=scale, label_smoothing=eps)
            assert np.all(np.isfinite(got))
            t64 = target if target.dtype.kind == "i" else target.astype(np.float64)
            want = fa.cross_entropy_grad(x64, t64, reduction="sum", grad_output=scale, label_smoothing=eps)
            if target.dtype.kind == "i":
                q = np.full(x.shape, eps / n)
                q[np.arange(2), target] += 1 - eps
            else:
                q = t64
            larger = np.maximum(scale * p64, scale * q).astype(np.float32)
            assert np.all(np.abs(got - want) <= 8 * np.spacing(larger).astype(np.float64))
    got, want = (fa.cross_entropy(v, cls, weight=np.full(n, 1e9, v.dtype), reduction="none", return_grad=True)[1]
                 for v in (x, x64))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e9 * 2.0 ** -126)


@pytest.mark.parametrize("n", [40, 1000, 5000])
def test_float32_gradient_entries_a_scale_lifts_out_of_the_subnormals(isa, n):
    """A softmax entry below float32's normal range times a gradient scale above 1 (grad_output
    x weight x the reduction's factor: 'sum' with a loss scale, class weights) can be a normal
    gradient entry: it must then be within 8 ULP of the larger of its two terms, not the few bits
    a subnormal softmax keeps (cross_entropy_grad(float32([[0, -95]]), [0], reduction='sum',
    grad_output=1e4)[0, 1] was 0, exact 5.52e-38: the stored terms below 2^-126.5 of their shift
    count as 0, and only factors up to 1 leave such an output subnormal; beyond 2^20 the row was
    formed at scale 2^-m and brought up by 2^m); subnormal entries within one smallest normal
    (SPEC section 6).  Class, smoothing and probability targets."""
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((6, n)) * 3).astype(np.float32)
    x[:, 1::3] -= 95.0                             # softmax entries e^-95 .. e^-110: subnormal
    x[3, 2::5] -= 20.0
    x[4] = rng.uniform(-120, 0, n).astype(np.float32)
    x[5, :2] = [0.0, -95.0]
    x[5, 2:] = -200.0
    cls = np.array([0, 3, 5, 7, 0, 0])
    prob = fa.softmax(rng.standard_normal((6, n)), axis=-1).astype(np.float32)
    xd = x.astype(np.float64)
    p = np.exp(xd - xd.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    tiny = np.finfo(np.float32).tiny
    for scale in (1.5, 2.0, 1e4, 2.0 ** 16, 2.0 ** 20, 2.0 ** 21, 3e9, 2.0 ** 60):
        for target, eps in ((cls, 0.0), (cls, 0.1), (prob, 0.0)):
            got = fa.cross_entropy_grad(x, target, reduction="sum", grad_output=scale,
                                        label_smoothing=eps).astype(np.float64)
            if target.dtype.kind == "i":
                q = np.full(x.shape, eps / n)
                q[np.arange(6), target] += 1 - eps
            else:
                q = target.astype(np.float64)
            want = scale * (p - q)
            if target.dtype.kind == "i" and eps == 0.0:     # -(1 - p_t) without cancelling
                want[np.arange(6), target] = -scale * (p.sum(axis=1) - p[np.arange(6), target])
            larger = np.maximum(scale * p, scale * q)
            normal = larger >= tiny
            err = np.abs(got - want)
            assert (err[normal] <= 8 * np.spacing(larger[normal].astype(np.float32))).all(), (scale, eps)
            assert (err[~normal] <= tiny).all(), (scale, eps)
