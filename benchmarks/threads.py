"""1 thread against 2 (or more) threads, interleaved in one run.

    python benchmarks/threads.py [rounds] [threads]      (default: 15 rounds, 2 threads)

Softmax of a (4096, 4096) float32 array along the last axis into a preallocated `out`
(against np.copyto of the same array, the memory-bound floor), and sigmoid of 2^22
float32 / float64 elements into `out`, plus a few sizes near the split threshold
(2^16 elements).  Every round runs each case on 1 and on N threads, best of 5 calls;
the table gives the median over rounds.  On a shared machine the ratio depends on how
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


def main(rounds=15, threads=2):
    before = fa.get_num_threads()
    table = cases()
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
        if name.startswith("softmax"):
            print(f"{'  (against np.copyto)':32s} {one / copy:11.2f}x {many / copy:11.2f}x")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:3]))
