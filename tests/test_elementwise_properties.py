"""Property tests (hypothesis) for the element-wise functions, generated from the registry.

Arbitrary float32/float64 arrays of any shape, with any finite value, +-inf and NaN:
- the result has the input's shape and dtype;
- NaN exactly where the input is NaN (every function defined on the whole line);
- monotone functions stay monotone: along sorted inputs the output never goes down by more
  than the function's ULP bound allows (twice the bound, in ULPs of the output: two
  results each within the bound may cross by that much; exact functions: not at all);
- bounded functions stay in their range.
"""
import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from activations import CASES, call, case_id  # noqa: E402

INF = math.inf
EXAMPLES = settings(max_examples=40, deadline=None, derandomize=True)


def _arrays(dtype):
    width = 32 if dtype == np.float32 else 64
    elements = st.floats(allow_nan=True, allow_infinity=True, width=width)
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9), elements=elements)


def _defined_everywhere(entry, params):
    return not (entry.kernel == "logit" and params[0] is None)


def _increasing(entry, params):
    """Monotone by definition: the registry's Activation.increasing (softplus with a threshold
    is not: torch's linear cut-off jumps down, pytorch#31110)."""
    inc = entry.increasing
    return bool(inc(*params) if callable(inc) else inc)


def _range(entry, params):
    """[lo, hi] every result must lie in (closed; None: unbounded): Activation.output_range."""
    return entry.output_range(*params) if entry.output_range else None


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_properties(case, dtype):
    entry, params = case

    @EXAMPLES
    @given(_arrays(dtype))
    @example(np.array([np.nan, INF, -INF, 0.0, -0.0, 1.0, -1.0, 2.0, -50.0, 50.0] * 4, dtype))
    def check(x):
        y = call(entry, x, params)
        y = np.asarray(y)
        assert y.shape == x.shape and y.dtype == x.dtype
        if _defined_everywhere(entry, params):
            assert np.array_equal(np.isnan(y), np.isnan(x)), f"NaN pattern differs: {x!r} -> {y!r}"
        else:
            assert np.all(np.isnan(y[np.isnan(x)]))
        finite_or_inf = ~np.isnan(y)
        bounds = _range(entry, params)
        if bounds is not None:
            lo, hi = bounds
            if lo is not None:
                assert np.all(y[finite_or_inf] >= lo), f"below {lo}: {x!r} -> {y!r}"
            if hi is not None:
                assert np.all(y[finite_or_inf] <= hi), f"above {hi}: {x!r} -> {y!r}"
        if _increasing(entry, params):
            xs = np.sort(x[~np.isnan(x)].ravel())
            ys = np.asarray(call(entry, xs, params))
            keep = ~np.isnan(ys)
            xs, ys = xs[keep], ys[keep]
            with np.errstate(invalid="ignore", over="ignore"):     # spacing(max) overflows
                allowed = 2 * entry.ulp * np.spacing(np.abs(ys[:-1]).astype(dtype))
                drop = ys[:-1].astype(np.float64) - ys[1:]
            bad = drop > allowed
            assert not np.any(bad), f"not monotone: f({xs[:-1][bad]}) = {ys[:-1][bad]} > f({xs[1:][bad]}) = {ys[1:][bad]}"

    check()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", [c for c in CASES if _increasing(*c)], ids=case_id)
def test_monotone_on_dense_grids(case, dtype):
    """Where the algorithms switch branches (|x| around 0.5 to 40, the cut-offs): consecutive
    floats of dtype, checked for monotonicity within the bound."""
    entry, params = case
    lo, hi = (0.0, 1.0) if entry.kernel == "logit" else (-60.0, 60.0)
    starts = np.linspace(lo, hi, 241).astype(dtype)
    steps = np.arange(200)
    x = np.unique(np.concatenate([
        (s.view({4: np.int32, 8: np.int64}[np.dtype(dtype).itemsize]) + steps).view(dtype) for s in starts]))
    x = x[(x >= lo) & (x <= hi) & np.isfinite(x)]
    y = np.asarray(call(entry, x, params))
    drop = y[:-1].astype(np.float64) - y[1:]
    allowed = 2 * entry.ulp * np.spacing(np.abs(y[:-1]))
    bad = drop > allowed
    assert not np.any(bad), f"not monotone at x={x[:-1][bad][:5]}"
