"""softmax / logsumexp of a chunked Dask array along an axis split over several chunks,
fastact against Dask's own formula, on a 2-worker LocalCluster.

    PYTHONPATH=. python benchmarks/bench_dask.py            # (2^15, 2^15) float32, chunks 2^12 x 2^12
    PYTHONPATH=. python benchmarks/bench_dask.py --quick    # (2^13, 2^13), chunks 2^11 x 2^11
    PYTHONPATH=. python benchmarks/bench_dask.py --persist  # the input generated once, held by the workers

Methods (axis=1, which spans n / chunk chunks):
  fastact        fa.softmax(x, axis=1), fa.logsumexp(x, axis=1)
  dask formula   e = da.exp(x - x.max(axis=1, keepdims=True)); e / e.sum(axis=1, keepdims=True)
                 da.log(da.exp(x - m).sum(axis=1)) + m  (m = x.max(axis=1, keepdims=True))
  map_blocks     x.map_blocks(scipy.special.softmax / logsumexp, axis=1): wrong across chunks
                 (each chunk normalised on its own); printed to show it, not timed.
The input is generated inside the graph (da.random, float32), so every run includes the
generation: the "generate only" line (x.sum()) is that share.  With --persist the input is
generated once and held in the workers' memory (x.persist(), as data loaded by a pipeline),
so the runs time the reductions themselves: the "generate only" line is then the sum of the
held input, the share of the .sum() that consumes the softmax outputs.  softmax outputs are reduced
by .sum() on the workers (not sent to the client); the same for every method.
Per run: each worker samples its RSS every 10 ms (a thread started by client.run after a
gc); the figure is the largest rise of a worker's RSS above its level at the start of the
run.  Times are medians over --repeat interleaved runs.
"""
import argparse
import time

import numpy as np


def start_peak(dask_worker):
    """On a worker: gc, then sample this process's RSS every 10 ms until peak_mb() is read."""
    import gc
    import threading

    import psutil
    gc.collect()
    proc = psutil.Process()
    state = {"base": proc.memory_info().rss, "peak": proc.memory_info().rss, "run": True}

    def loop():
        while state["run"]:
            state["peak"] = max(state["peak"], proc.memory_info().rss)
            time.sleep(0.01)
    threading.Thread(target=loop, daemon=True).start()
    dask_worker.fastact_bench_rss = state         # kept on the worker between client.run calls
    return state["base"] / 2**20


def peak_mb(dask_worker):
    """(peak RSS, peak RSS above the RSS at start_peak) in MB, and stop sampling."""
    state = dask_worker.fastact_bench_rss
    state["run"] = False
    return state["peak"] / 2**20, (state["peak"] - state["base"]) / 2**20


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="(2^13, 2^13) in chunks of 2^11")
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--chunk", type=int, default=None)
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--persist", action="store_true", help="generate the input once and keep it on the workers")
    args = p.parse_args()
    n = args.n or (2 ** 13 if args.quick else 2 ** 15)
    c = args.chunk or (2 ** 11 if args.quick else 2 ** 12)
    repeat = args.repeat or (3 if args.quick else 1)

    import dask.array as da
    import scipy.special as sc
    from distributed import Client, LocalCluster

    import fastact as fa

    def generate():
        return da.random.default_rng(7).standard_normal((n, n), chunks=(c, c), dtype=np.float32) * 4

    held = []

    def data():
        return held[0] if held else generate()

    def dask_softmax(x):
        e = da.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def dask_logsumexp(x):
        m = x.max(axis=1, keepdims=True)
        return da.log(da.exp(x - m).sum(axis=1)) + m[:, 0]

    gen = "sum of held input" if args.persist else "generate only"
    methods = {
        gen: lambda: data().sum(dtype=np.float64),
        "softmax fastact": lambda: fa.softmax(data(), axis=1).sum(dtype=np.float64),
        "softmax dask formula": lambda: dask_softmax(data()).sum(dtype=np.float64),
        "logsumexp fastact": lambda: fa.logsumexp(data(), axis=1),
        "logsumexp dask formula": lambda: dask_logsumexp(data()),
    }
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    print(f"fastact {fa.__version__} ({fa.simd_info()['current']}), dask {da.__name__ and __import__('dask').__version__}, "
          f"x: ({n}, {n}) float32 in chunks of ({c}, {c}) ({(n // c) ** 2} chunks, {n * n * 4 / 2**30:.2f} GB), "
          f"2 workers x 1 thread, {repeat} run(s) each"
          + (", input generated once and held by the workers (--persist)" if args.persist else ""))
    if args.persist:
        from distributed import wait
        held.append(generate().persist())
        wait(held[0])
    times = {k: [] for k in methods}
    peaks = {k: [] for k in methods}
    results = {}
    try:
        for _ in range(repeat):
            for name, make in methods.items():
                expr = make()
                client.run(start_peak)
                t0 = time.perf_counter()
                r = client.compute(expr).result()
                times[name].append(time.perf_counter() - t0)
                peaks[name].append(max(v[1] for v in client.run(peak_mb).values()))
                results[name] = r
        # the two formulas agree (float32 results; the sum of every softmax entry is n)
        lse_f, lse_d = results["logsumexp fastact"], results["logsumexp dask formula"]
        print(f"checks: softmax sums {results['softmax fastact']:.3f} / {results['softmax dask formula']:.3f}"
              f" (exact {n}); max |logsumexp fastact - dask formula| = {np.max(np.abs(lse_f - lse_d)):.3g}")
        # map_blocks with scipy: each chunk on its own, wrong across chunks
        x = data()
        wrong_sm = x.map_blocks(sc.softmax, axis=1, dtype=np.float32)
        rows = client.compute(wrong_sm[:4].sum(axis=1)).result()
        wrong_lse = x.map_blocks(sc.logsumexp, axis=1, keepdims=True, dtype=np.float32,
                                 chunks=(x.chunks[0], (1,) * len(x.chunks[1])))
        wl = client.compute(wrong_lse[:4]).result()
        print(f"map_blocks(scipy.special.softmax, axis=1): row sums {np.round(rows, 3)} (should be 1: "
              f"each of the {n // c} chunks of a row sums to 1)")
        print(f"map_blocks(scipy.special.logsumexp, axis=1): shape {wrong_lse.shape}, not ({n},); row 0 gives "
              f"{np.round(wl[0], 3)} against {lse_f[0]:.3f}")
    finally:
        client.close()
        cluster.close()
    base = np.median(times[gen])
    print(f"\n{'method':26s} {'median s':>9s} {'minus ' + ('sum' if args.persist else 'gen'):>9s} {'runs':>24s} {'peak worker +RSS MB':>19s}")
    for name in methods:
        t = np.median(times[name])
        print(f"{name:26s} {t:9.2f} {t - base:9.2f} {' '.join(f'{v:.2f}' for v in times[name]):>24s} "
              f"{max(peaks[name]):19.0f}")
    for op in ("softmax", "logsumexp"):
        tf, td = np.median(times[f"{op} fastact"]), np.median(times[f"{op} dask formula"])
        sub = (f"{(td - base) / (tf - base):.2f}x" if td > base and tf > base else
               f"n/a (the {gen!r} time varied more than the difference)")
        print(f"{op}: dask formula / fastact = {td / tf:.2f}x (all), {sub} ({gen!r} subtracted)")


if __name__ == "__main__":
    main()
