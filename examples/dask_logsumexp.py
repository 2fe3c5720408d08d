"""Log-likelihood of a Gaussian mixture over 10^9 samples with fastact on a Dask cluster.

    python examples/dask_logsumexp.py                      # 10^9 samples, 2 local workers
    python examples/dask_logsumexp.py --samples 10000000   # smaller
    python examples/dask_logsumexp.py --scheduler tcp://host:8786   # an existing cluster

The samples are drawn chunk by chunk on the workers from a seeded generator (chunk i uses
np.random.default_rng([seed, i])), so they are never held in one piece, and the same
seed gives the same data whatever the chunk placement.  Two reductions:

  log-likelihood      sum_i log p(x_i),  log p(x) = logsumexp_k(log N(x; mu_k, s_k), b=pi_k)
                      (fastact.logsumexp along the components, one task per chunk)
  log E_p[p(X)]       logsumexp_i(log p(x_i)) - log N, a log-sum-exp over all 10^9 samples:
                      the axis spans every chunk, so fastact combines per-chunk statistics
                      (max, then a double-double sum of e^(x - max)) in a tree.  Its exact
                      value for a Gaussian mixture is known: log sum_jk pi_j pi_k
                      N(mu_j; mu_k, s_j^2 + s_k^2), printed alongside.

Prints the results, the wall time and the memory high-water mark of each worker
(getrusage on the workers) and of this process.
"""
import argparse
import math
import resource
import time

import numpy as np

import fastact as fa

PI = np.array([0.5, 0.3, 0.2])
MU = np.array([-2.0, 0.5, 3.0])
SIGMA = np.array([0.8, 1.5, 0.6])


def draw(n, seed, block):
    """n samples of the mixture, the same for a given (seed, block)."""
    rng = np.random.default_rng([seed, block])
    k = rng.choice(len(PI), size=n, p=PI)
    return rng.normal(MU[k], SIGMA[k])


def _draw_block(seed, block_id=None, block_info=None):
    n = block_info[None]["chunk-shape"][0]
    return draw(n, seed, block_id[0])


def component_logpdf(x):
    """(n, K) log N(x; mu_k, sigma_k), as a Dask expression on a (n,) Dask array."""
    z = (x[:, None] - MU) / SIGMA
    return -0.5 * z * z - np.log(SIGMA) - 0.5 * math.log(2 * math.pi)


def exact_log_expected_density():
    s2 = SIGMA[:, None] ** 2 + SIGMA[None, :] ** 2
    dens = np.exp(-0.5 * (MU[:, None] - MU[None, :]) ** 2 / s2) / np.sqrt(2 * math.pi * s2)
    return math.log(float(PI @ dens @ PI))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0     # Linux: kB


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=float, default=1e9)
    p.add_argument("--chunk", type=float, default=2 ** 22, help="samples per chunk")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--scheduler", default=None, help="address of an existing scheduler")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    import dask.array as da
    from distributed import Client, LocalCluster, progress

    n, chunk = int(args.samples), int(args.chunk)
    if args.scheduler:
        cluster, client = None, Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        chunks = (tuple([chunk] * (n // chunk) + ([n % chunk] if n % chunk else [])),)
        x = da.map_blocks(_draw_block, args.seed, chunks=chunks, dtype=np.float64,
                          meta=np.empty((0,), np.float64))
        logp = fa.logsumexp(component_logpdf(x), axis=1, b=PI)          # (n,), per chunk
        loglik = logp.sum()
        log_mean_density = fa.logsumexp(logp) - math.log(n)             # across every chunk
        t0 = time.perf_counter()
        futures = client.compute([loglik, log_mean_density])
        if not args.no_progress:
            progress(futures)
            print()
        ll, lmd = client.gather(futures)
        wall = time.perf_counter() - t0
        worker_peaks = client.run(peak_rss_mb)
        print(f"samples: {n} in {len(chunks[0])} chunks of <= {chunk}")
        print(f"log-likelihood: {float(ll)!r}")
        print(f"mean log-likelihood per sample: {float(ll) / n:.10f}")
        print(f"log E[p(X)] (Monte Carlo): {float(lmd):.10f}")
        print(f"log E[p(X)] (exact): {exact_log_expected_density():.10f}")
        if n <= 4_000_000:       # small runs: the same numbers in memory, for checking
            xs = np.concatenate([draw(c, args.seed, i) for i, c in enumerate(chunks[0])])
            z = (xs[:, None] - MU) / SIGMA
            lp = fa.logsumexp(-0.5 * z * z - np.log(SIGMA) - 0.5 * math.log(2 * math.pi), axis=1, b=PI)
            print(f"check (in memory): {float(np.sum(lp))!r}")
        print(f"wall time: {wall:.2f} s ({n / wall / 1e6:.1f} M samples/s)")
        print(f"peak memory: workers {', '.join(f'{v:.0f}' for v in worker_peaks.values())} MB, "
              f"client {peak_rss_mb():.0f} MB (max RSS)")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
