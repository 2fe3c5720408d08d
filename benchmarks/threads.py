"""1 thread against 2 (or more) threads, interleaved in one run.

    python benchmarks/threads.py [rounds] [threads]      (default: 15 rounds, 2 threads)
    python benchmarks/threads.py --all [rounds] [threads]  (every function of the registry)

Softmax of a (4096, 4096) float32 array along the last axis into a preallocated `out`
(against np.copyto of the same array, the memory-bound floor), and sigmoid of 2^22
float32 / float64 elements into `out`, plus a few sizes near the split threshold
(2^16 elements).  Every round runs each case on 1 and on N threads, best of 5 calls;
the table gives the median over rounds.  `--all` runs every element-wise function and
gradient of the registry (float32, 2^14 to 2^22 elements, and float64 2^20) and the
reductions ((1024, 1024) along -1, 0 and None, (64, 50257) along -1, both dtypes), then
prints the worst 2-thread/1-thread speed-up per function: item 5 of issue 8 asks >= 1.0
everywhere and >= 1.6 at >= 2^20 elements and (1024, 1024).  On a shared machine the ratio depends on how
free the other cores are: read it next to a CPU-burner check.
"""
import statistics
import sys
import time

import numpy as np

import fastact as fa


def best_of(f, reps=5):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def cases():
    rng = np.random.default_rng(0)
    x = rng.uniform(-50, 50, (4096, 4096)).astype(np.float32)
    y = np.empty_like(x)
    out = [("np.copyto (4096, 4096) float32", lambda: np.copyto(y, x), False),
           ("softmax (4096, 4096) float32", lambda: fa.softmax(x, axis=-1, out=y), True)]
    for n, dt in ((1 << 22, np.float32), (1 << 22, np.float64), (1 << 16, np.float32), (1 << 18, np.float32)):
        s = rng.standard_normal(n).astype(dt)
        o = np.empty_like(s)
        out.append((f"sigmoid 2^{n.bit_length() - 1} {np.dtype(dt).name}", lambda s=s, o=o: fa.sigmoid(s, out=o), True))
    return out


def all_cases():
    """(name, call, True) for every registry function at every size (see the module text)."""
    from fastact._registry import ACTIVATIONS, GRADIENTS, REDUCTIONS, BY_KERNEL
    rng = np.random.default_rng(0)
    sizes = [(1 << k, np.float32) for k in (14, 16, 18, 20, 22)] + [(1 << 20, np.float64)]
    data = {}
    for n, dt in sizes:
        x = (rng.standard_normal(n) * 3).astype(dt)
        data[n, dt] = (x, np.clip(x * 0.1 + 0.5, 0.01, 0.99).astype(dt), rng.standard_normal(n).astype(dt))
    out = []
    for entry in ACTIVATIONS + GRADIENTS:
        fwd = BY_KERNEL[entry.forward] if hasattr(entry, "forward") else entry
        f, params = getattr(fa, entry.name), fwd.test_params[0]
        kwargs = {fwd.select[0]: fwd.select[1]} if fwd.select else {}
        label = entry.name + (f"[{fwd.select[1]}]" if fwd.select else "")
        for n, dt in sizes:
            x, p, g = data[n, dt]
            x = p if fwd.kernel == "logit" else x
            y = np.empty_like(x)
            args = (x, g) if entry in GRADIENTS else (x,)
            out.append((f"{label} 2^{n.bit_length() - 1} {np.dtype(dt).name}",
                        lambda f=f, args=args, params=params, y=y, kw=kwargs: f(*args, *params, out=y, **kw), True))
    for red in REDUCTIONS:
        f = getattr(fa, red.kernel)
        for shape in ((1024, 1024), (64, 50257)):
            for dt in (np.float32, np.float64):
                x = (rng.standard_normal(shape) * 3).astype(dt)
                for axis in ((-1, 0, None) if shape == (1024, 1024) else (-1,)):
                    out.append((f"{red.kernel} {shape} {np.dtype(dt).name} axis={axis}",
                                lambda f=f, x=x, axis=axis: f(x, axis=axis), True))
    return out


def worst_per_function(table, times, threads):
    """The lowest speed-up per function name (the first word of the case name)."""
    worst = {}
    for name, _, _ in table:
        r = statistics.median(times[(name, 1)]) / statistics.median(times[(name, threads)])
        fn = name.split()[0]
        if fn not in worst or r < worst[fn][0]:
            worst[fn] = (r, name)
    print(f"\nworst {threads}-thread speed-up per function:")
    for fn, (r, name) in sorted(worst.items(), key=lambda kv: kv[1][0]):
        print(f"  {r:5.2f}x  {name}")


def main(rounds=15, threads=2, every=False):
    before = fa.get_num_threads()
    table = all_cases() if every else cases()
    times = {(name, k): [] for name, _, _ in table for k in (1, threads)}
    for _ in range(rounds):
        for name, f, split in table:
            for k in ((1, threads) if split else (1,)):
                fa.set_num_threads(k)
                f()
                times[(name, k)].append(best_of(f))
    fa.set_num_threads(before)
    copy = statistics.median(times[(table[0][0], 1)])
    print(f"{'':32s} {'1 thread':>12s} {f'{threads} threads':>12s} {'speed-up':>9s}")
    for name, _, split in table:
        one = statistics.median(times[(name, 1)])
        if not split:
            print(f"{name:32s} {one * 1e3:9.3f} ms")
            continue
        many = statistics.median(times[(name, threads)])
        print(f"{name:32s} {one * 1e3:9.3f} ms {many * 1e3:9.3f} ms {one / many:8.2f}x")
        if name.startswith("softmax") and not every:
            print(f"{'  (against np.copyto)':32s} {one / copy:11.2f}x {many / copy:11.2f}x")


    if every:
        worst_per_function(table, times, threads)


if __name__ == "__main__":
    from conftest import exit_on_help        # benchmarks/ is sys.path[0] for a script
    exit_on_help(__doc__)
    every = "--all" in sys.argv[1:]
    try:
        args = [int(a) for a in sys.argv[1:] if a != "--all"]
    except ValueError:
        sys.exit(f"usage: python benchmarks/threads.py [--all] [rounds] [threads]  (got {sys.argv[1:]})")
    main(*args[:2], every=every)
