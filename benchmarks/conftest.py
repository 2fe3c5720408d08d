"""Benchmark options and peers.

    PYTHONPATH=. python -m pytest benchmarks/bench_elementwise.py --benchmark-enable -k "sigmoid and float32"
    ... --bench-large                  # add n = 10**7
    ... --bench-sizes 10,1000          # choose the sizes

torch (when installed) runs single-threaded, as fastact does, so the numbers compare kernels.
JAX (when installed: `pip install "jax[cpu]"`; the scripts take it with --jax) gets
XLA_FLAGS=--xla_cpu_multi_thread_eigen=false before its first computation, with float64
enabled; its calls are jitted and called once before any timing (compilation), their inputs
are device arrays made outside the timing, and each timed call waits for its result
(block_until_ready).  jax 0.10.2 here used 1.2 CPU seconds per wall second with or without
that flag (its runtime's own thread beside the caller's): its figures are close to, not
exactly, one core's.
"""
import importlib.util
import os
import sys
import time

import numpy as np
import pytest

DEFAULT_SIZES = (10, 1000, 2 ** 20)
LARGE = 10 ** 7


def pytest_addoption(parser):
    group = parser.getgroup("fastact benchmarks")
    group.addoption("--bench-sizes", default=",".join(map(str, DEFAULT_SIZES)),
                    help="comma-separated array sizes (default %(default)s)")
    group.addoption("--bench-large", action="store_true", help=f"also run n = {LARGE}")


def bench_sizes(config):
    sizes = [int(s) for s in config.getoption("--bench-sizes").split(",") if s]
    if config.getoption("--bench-large"):
        sizes.append(LARGE)
    return sizes


def pytest_generate_tests(metafunc):
    if "size" in metafunc.fixturenames:
        sizes = bench_sizes(metafunc.config)
        metafunc.parametrize("size", sizes, ids=[f"n{s}" for s in sizes])


def exit_on_help(doc, argv=None):
    """For the scripts run as `python benchmarks/<name>.py`: -h or --help (in argv, default
    sys.argv[1:]) prints the module docstring, their usage, and exits with status 0."""
    if {"-h", "--help"} & set(sys.argv[1:] if argv is None else argv):
        print(doc)
        sys.exit(0)


def interleaved_rounds(impls, rounds):
    """{name: [seconds]}: each callable once per round, in turn, after one warm-up call each
    (slow moments of a shared machine hit every contender alike); NumPy warnings off."""
    times = {k: [] for k in impls}
    with np.errstate(all="ignore"):
        for fn in impls.values():
            fn()
        for _ in range(rounds):
            for k, fn in impls.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
    return times


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def jax_or_none():
    """jax on the CPU (Eigen's thread pool off) with float64 enabled, or None if it is not
    installed or does not import (jax without jaxlib)"""
    if importlib.util.find_spec("jax") is None:
        return None
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_platforms", "cpu")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.fixture(scope="session")
def torch():
    return torch_or_none()
