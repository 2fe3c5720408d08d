"""Where the time of a chunked softmax goes when the graph also draws its input: the
distributed task stream of one run per method on a 2-worker LocalCluster, summed by task
prefix (compute seconds of all workers) and transfers.  (2^14, 2^14) float32 in 2^12 chunks.

    PYTHONPATH=. python benchmarks/dask_task_stream.py

Prefixes: standard_normal, mul = drawing the input (x * 4); fastact: identity = the
statistics stage (fused into the reduction's first step), sum = the output stage fused with
the .sum() consuming it; Dask formula: chunk_max, exp (x - max, exp), sum.
"""
import time, collections, numpy as np, dask.array as da
from distributed import Client, LocalCluster, get_task_stream
import fastact as fa
n, c = 16384, 4096
def data():
    return da.random.default_rng(7).standard_normal((n, n), chunks=(c, c), dtype=np.float32) * 4
def dask_softmax(x):
    e = da.exp(x - x.max(axis=1, keepdims=True)); return e / e.sum(axis=1, keepdims=True)
if __name__ == "__main__":
    from conftest import exit_on_help        # benchmarks/ is sys.path[0] for a script
    exit_on_help(__doc__)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, Client(cl) as cli:
        for name, mk in (("gen", lambda: data().sum(dtype=np.float64)),
                         ("fastact", lambda: fa.softmax(data(), axis=1).sum(dtype=np.float64)),
                         ("dask", lambda: dask_softmax(data()).sum(dtype=np.float64))):
            e = mk()
            with get_task_stream(client=cli) as ts:
                t0 = time.perf_counter(); cli.compute(e).result(); wall = time.perf_counter() - t0
            acc = collections.Counter()
            for t in ts.data:
                k = t["key"][0] if isinstance(t["key"], tuple) else str(t["key"])
                pre = k.rsplit("-", 1)[0]
                for ss in t["startstops"]:
                    acc[(ss["action"], pre if ss["action"] == "compute" else "")] += ss["stop"] - ss["start"]
            print(f"{name}: wall {wall:.2f} s; " + ", ".join(f"{a} {p} {v:.2f}" for (a, p), v in sorted(acc.items(), key=lambda kv: -kv[1])))
