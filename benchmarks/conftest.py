"""Benchmark options and peers.

    PYTHONPATH=. python -m pytest benchmarks/bench_elementwise.py --benchmark-enable -k "sigmoid and float32"
    ... --bench-large                  # add n = 10**7
    ... --bench-sizes 10,1000          # choose the sizes

torch (when installed) runs single-threaded, as fastact does, so the numbers compare kernels.
"""
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


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def torch():
    return torch_or_none()
