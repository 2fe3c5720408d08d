"""examples/train_digits.py: two epochs of the worked example train (the loss falls, the model
learns), using fastact's activation, cross-entropy and gradients only."""
import importlib.util
import os

import numpy as np
import pytest

pytest.importorskip("sklearn")    # the example's data set ships with scikit-learn (the test extra)

EXAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "train_digits.py")


def _example():
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_two_epochs_learn(activation, capsys):
    history, seconds = _example().main(["--epochs", "2", "--no-compare", "--no-plot",
                                        "--activation", activation])
    (e1, loss1, acc1), (e2, loss2, acc2) = history
    assert (e1, e2) == (1, 2)
    # an untrained 10-class model has loss ~ log(10) = 2.30 and accuracy ~ 10 %
    assert loss2 < loss1 < np.log(10.0)
    assert acc2 > 0.5
    assert "epoch   2" in capsys.readouterr().out


def test_gradients_match_finite_differences():
    """The example's backward pass (fastact's cross_entropy grad and activation grad through the
    matmuls) agrees with central differences of its forward loss, in float64."""
    mod = _example()
    rng = np.random.default_rng(1)
    model = mod.MLP(5, 7, 10, "gelu", rng)
    for name in ("W1", "b1", "W2", "b2"):
        setattr(model, name, getattr(model, name).astype(np.float64))
    X = rng.normal(size=(6, 5))
    y = rng.integers(0, 10, 6)
    loss, grads = model.loss_and_grads(X, y)
    for p, g in zip(model.params, grads):
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for i in range(0, flat.size, max(1, flat.size // 7)):
            keep = flat[i]
            h = 1e-6
            flat[i] = keep + h
            up = model.loss_and_grads(X, y)[0]
            flat[i] = keep - h
            down = model.loss_and_grads(X, y)[0]
            flat[i] = keep
            assert gflat[i] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)
