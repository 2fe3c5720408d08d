"""sigmoid_grad_from_output / tanh_grad_from_output (the registry's OUTPUT_GRADIENTS): the
derivative from the forward's output y, against mpmath over every binade of y's range on
every kernel variant, against torch's sigmoid_backward / tanh_backward and the x-based
gradients, with NumPy's argument handling."""
import numpy as np
import pytest

import fastact as fa
from fastact import _ulp
from fastact._registry import OUTPUT_GRADIENTS

pytest.importorskip("mpmath")

IDS = [g.kernel for g in OUTPUT_GRADIENTS]


@pytest.mark.parametrize("entry", OUTPUT_GRADIENTS, ids=IDS)
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_within_the_bound_over_every_binade_of_y(entry, dtype, isa):
    y = _ulp.binade_sweep(entry.reference, (), dtype, domain=entry.domain, per_binade=4)
    y = np.concatenate([y, np.array(entry.domain, dtype)])
    hi, lo = _ulp.reference(entry.reference, y)
    got = getattr(fa, entry.name)(y)
    err = _ulp.ulp_errors(got, hi, lo, dtype)
    assert err.max() <= entry.ulp, (y[err.argmax()], err.max())
    # times a grad_output: the bound of the product (one more rounding, half an ULP)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    with np.errstate(all="ignore"):
        gh, gl = hi * g.astype(np.float64), lo * g.astype(np.float64)
    err = _ulp.ulp_errors(getattr(fa, entry.name)(y, g), gh, gl, dtype)
    assert err.max() <= entry.ulp + 0.5, (y[err.argmax()], err.max())


@pytest.mark.parametrize("entry", OUTPUT_GRADIENTS, ids=IDS)
def test_agrees_with_the_x_based_gradient_where_well_conditioned(entry):
    x = np.linspace(-2, 2, 1001)
    fwd = getattr(fa, entry.forward)
    want = getattr(fa, entry.forward + "_grad")(x)
    np.testing.assert_allclose(getattr(fa, entry.name)(fwd(x)), want, rtol=1e-14)


@pytest.mark.parametrize("entry", OUTPUT_GRADIENTS, ids=IDS)
def test_against_torch_backward(entry):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        y = getattr(fa, entry.forward)(rng.standard_normal(4099) * 3).astype(dtype)
        g = rng.standard_normal(y.shape).astype(dtype)
        back = getattr(torch.ops.aten, entry.forward + "_backward")
        want = back(torch.from_numpy(g), torch.from_numpy(y)).numpy()
        got = getattr(fa, entry.name)(y, g)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=8 * np.finfo(dtype).eps, atol=4 * np.finfo(dtype).tiny)


@pytest.mark.parametrize("entry", OUTPUT_GRADIENTS, ids=IDS)
def test_numpy_argument_handling(entry):
    f = getattr(fa, entry.name)
    y = np.linspace(-0.9, 0.9, 12).reshape(3, 4)
    g = np.arange(4.0)
    want = entry.numpy(np, y) * g
    np.testing.assert_allclose(f(y, g), want, rtol=4e-16)                 # broadcasting
    out = np.empty_like(y)
    assert f(y, g, out=out) is out and np.array_equal(out, f(y, g))
    yy = y.copy()
    assert f(yy, g, out=yy) is yy and np.array_equal(yy, out)             # in place
    assert f(y.astype(np.float16)).dtype == np.float16
    assert f(y[:, ::2]).shape == (3, 2)                                    # strided
    assert isinstance(f(np.float64(0.5)), np.float64)
    assert f(0.5) == entry.numpy(np, 0.5)
    with pytest.raises(TypeError):
        f(np.array([0.5 + 1j]))
    with pytest.raises(ValueError):
        f(y, np.ones(3))
    assert np.isnan(f(np.array([np.nan]))).all()


def test_threads_give_the_same_bits():
    y = fa.sigmoid(np.random.default_rng(3).standard_normal(1 << 21))
    before = fa.get_num_threads()
    try:
        fa.set_num_threads(1)
        one = [fa.sigmoid_grad_from_output(y), fa.tanh_grad_from_output(y)]
        fa.set_num_threads(2)
        two = [fa.sigmoid_grad_from_output(y), fa.tanh_grad_from_output(y)]
    finally:
        fa.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
