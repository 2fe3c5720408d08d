"""Train a multilayer perceptron on scikit-learn's digits with NumPy matmuls and fastact only.

    python examples/train_digits.py                       # 60 epochs, prints progress, saves a curve
    python examples/train_digits.py --epochs 2 --no-compare --no-plot   # the test's quick run

No autograd library: the forward pass is NumPy matmuls plus fastact's activation, the loss and
its gradient come from one fused C pass (`fa.cross_entropy(..., return_grad=True)`: the mean
cross-entropy and d(loss)/d(logits) = (softmax - one_hot) / batch), and the backward pass is
NumPy matmuls plus the activation's C gradient (`fa.<activation>_grad(h, grad_output)`).
The optimiser is Adam (Kingma & Ba 2015, the defaults scikit-learn and PyTorch use), written out.

The data is scikit-learn's bundled digits set (1,797 8x8 images, shipped inside scikit-learn:
no download), split 75/25 with a fixed seed, pixels scaled to [0, 1].

With --compare (the default) the same work is timed for scikit-learn's MLPClassifier (same
architecture, ReLU, Adam, learning rate, batch size, epochs, no L2 penalty, no early stopping)
and, where installed, PyTorch (same again, autograd).  Times are the training loop only.
Needs: numpy, fastact, scikit-learn; matplotlib for the picture (--plot), torch optional.
"""
import argparse
import time

import numpy as np

import fastact as fa


def load(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y.astype(np.int64), test_size=0.25, random_state=seed, stratify=y)


def glorot(rng, n_in, n_out):
    """Glorot-uniform weights and zero biases, as scikit-learn's MLPClassifier initialises them."""
    bound = np.sqrt(6.0 / (n_in + n_out))
    return (rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32),
            np.zeros(n_out, np.float32))


class Adam:
    """Adam over a list of arrays, updated in place (lr 1e-3, betas 0.9/0.999, eps 1e-8)."""

    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        scale = self.lr * np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= scale * m / (np.sqrt(v) + self.eps)


class MLP:
    """inputs -> hidden (activation) -> 10 logits; forward, loss and backward with fastact."""

    def __init__(self, n_in, n_hidden, n_out, activation, rng):
        self.W1, self.b1 = glorot(rng, n_in, n_hidden)
        self.W2, self.b2 = glorot(rng, n_hidden, n_out)
        self.act = getattr(fa, activation)
        self.act_grad = getattr(fa, activation + "_grad")

    @property
    def params(self):
        return [self.W1, self.b1, self.W2, self.b2]

    def logits(self, X):
        return self.act(X @ self.W1 + self.b1) @ self.W2 + self.b2

    def loss_and_grads(self, X, y):
        h = X @ self.W1 + self.b1
        a = self.act(h)
        logits = a @ self.W2 + self.b2
        loss, dlogits = fa.cross_entropy(logits, y, return_grad=True)   # one C pass over the logits
        dW2 = a.T @ dlogits
        db2 = dlogits.sum(axis=0)
        dh = self.act_grad(h, dlogits @ self.W2.T)                       # f'(h) * grad_output, in C
        dW1 = X.T @ dh
        db1 = dh.sum(axis=0)
        return float(loss), [dW1, db1, dW2, db2]

    def accuracy(self, X, y):
        return float(np.mean(np.argmax(self.logits(X), axis=1) == y))


def train_fastact(Xtr, ytr, Xte, yte, args, log=print):
    rng = np.random.default_rng(args.seed)
    model = MLP(Xtr.shape[1], args.hidden, 10, args.activation, rng)
    opt = Adam(model.params, lr=args.lr)
    history = []
    seconds = 0.0
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        order = rng.permutation(len(Xtr))
        total = 0.0
        for start in range(0, len(Xtr), args.batch_size):
            idx = order[start:start + args.batch_size]
            loss, grads = model.loss_and_grads(Xtr[idx], ytr[idx])
            opt.step(grads)
            total += loss * len(idx)
        seconds += time.perf_counter() - t0
        train_loss = total / len(Xtr)
        test_acc = model.accuracy(Xte, yte)
        history.append((epoch, train_loss, test_acc))
        log(f"epoch {epoch:3d}  train loss {train_loss:.4f}  test accuracy {100 * test_acc:.2f} %")
    return model, history, seconds


def time_sklearn(Xtr, ytr, Xte, yte, args):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(args.hidden,), activation="relu", solver="adam",
                        alpha=0.0, batch_size=args.batch_size, learning_rate_init=args.lr,
                        max_iter=args.epochs, tol=0.0, n_iter_no_change=args.epochs + 1,
                        shuffle=True, random_state=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(Xtr, ytr)
        seconds = time.perf_counter() - t0
    return seconds, float(clf.score(Xte, yte))


def time_torch(Xtr, ytr, Xte, yte, args):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(args.seed)
    # one thread: on these (batch, 64) x (64, hidden) products torch's worker threads only add
    # hand-offs, and with the machine's other core busy its OpenMP pool stalled a run for 130 s
    # (2 cores, 2026-12-06); fastact's calls run on one thread at these sizes too
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_torch(torch, Xtr, ytr, Xte, yte, args)
    finally:
        torch.set_num_threads(threads)


def _train_torch(torch, Xtr, ytr, Xte, yte, args):
    act = {"relu": torch.nn.ReLU(), "gelu": torch.nn.GELU(), "silu": torch.nn.SiLU(),
           "tanh": torch.nn.Tanh(), "sigmoid": torch.nn.Sigmoid()}.get(args.activation)
    if act is None:
        return None
    model = torch.nn.Sequential(torch.nn.Linear(Xtr.shape[1], args.hidden), act,
                                torch.nn.Linear(args.hidden, 10))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.from_numpy(rng.permutation(len(Xtr)))
        for start in range(0, len(Xtr), args.batch_size):
            idx = order[start:start + args.batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        acc = float((model(torch.from_numpy(Xte)).argmax(1) == torch.from_numpy(yte)).float().mean())
    return seconds, acc


def plot(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs, loss, acc = zip(*history)
    fig, ax1 = plt.subplots(figsize=(6, 3.5))
    ax1.plot(epochs, loss, color="tab:blue")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("train loss (cross-entropy)", color="tab:blue")
    ax1.set_yscale("log")
    ax2 = ax1.twinx()
    ax2.plot(epochs, [100 * a for a in acc], color="tab:orange")
    ax2.set_ylabel("test accuracy (%)", color="tab:orange")
    ax1.set_title("MLP on digits: NumPy matmuls + fastact")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    # element-wise activations only: softmax_grad / log_softmax_grad take the forward's output,
    # not its input, and act along an axis (fourth differential fuzz: training stalled silently)
    along_an_axis = {"softmax", "log_softmax", "logsumexp"}
    elementwise = sorted(n for n in fa.__all__ if hasattr(fa, n + "_grad") and n not in along_an_axis
                         and not n.startswith(("cross_entropy", "binary_cross", "nll")))
    p.add_argument("--activation", default="relu", choices=elementwise,
                   help="an element-wise fastact activation (its _grad is the backward)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", default="train_digits.png", help="where the curve goes")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--no-compare", action="store_true", help="skip scikit-learn and PyTorch")
    args = p.parse_args(argv)

    Xtr, Xte, ytr, yte = load(args.seed)
    print(f"digits: {len(Xtr)} training and {len(Xte)} test images; MLP 64-{args.hidden}-10 "
          f"({args.activation}), Adam lr {args.lr}, batch {args.batch_size}, {args.epochs} epochs")
    model, history, seconds = train_fastact(Xtr, ytr, Xte, yte, args)
    acc = history[-1][2]
    print(f"fastact + NumPy: test accuracy {100 * acc:.2f} %, training {seconds:.2f} s")
    if not args.no_plot:
        try:
            plot(history, args.plot)
            print(f"curve saved to {args.plot}")
        except ImportError:
            print("no curve: matplotlib is not installed (pip install matplotlib, or --no-plot)")
    if not args.no_compare:
        sk_s, sk_acc = time_sklearn(Xtr, ytr, Xte, yte, args)
        print(f"scikit-learn MLPClassifier (relu): test accuracy {100 * sk_acc:.2f} %, "
              f"training {sk_s:.2f} s ({sk_s / seconds:.2f}x fastact's time)")
        th = time_torch(Xtr, ytr, Xte, yte, args)
        if th is not None:
            print(f"PyTorch ({args.activation}, autograd, one thread): test accuracy {100 * th[1]:.2f} %, "
                  f"training {th[0]:.2f} s ({th[0] / seconds:.2f}x fastact's time)")
    return history, seconds


if __name__ == "__main__":
    main()
