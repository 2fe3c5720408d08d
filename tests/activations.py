"""Shared pieces of the element-wise tests, all derived from fastact/_registry.py.

`CASES` is every (registry entry, parameter set) pair the tests sweep; `call` runs
one of them through the public function; `inputs` is a pool of values of a dtype
covering the entry's domain (every binade, the ends, both zeros); `reference` is the
accuracy sweep of a case with its mpmath values, computed once per case and dtype.
"""
import functools

import numpy as np
import pytest

import fastact as fa
from fastact._registry import ACTIVATIONS

import ulp

DTYPES = (np.float32, np.float64)
ENTRIES = ACTIVATIONS
CASES = [(entry, params) for entry in ACTIVATIONS for params in entry.test_params]


def case_id(case):
    entry, params = case
    return entry.kernel + ("" if params == () else "-" + "-".join(map(str, params)))


def entry_id(entry):
    return entry.kernel


def call(entry, x, params=None, **kwargs):
    """The public function of `entry` on x, with `params` (default: the first test set)."""
    params = entry.test_params[0] if params is None else params
    kwargs.update({p.name: v for p, v in zip(entry.params, params)})
    if entry.select:
        kwargs[entry.select[0]] = entry.select[1]
    return getattr(fa, entry.name)(x, **kwargs)


def slack(bound):
    """The measured error may exceed a correctly rounded 0.5 ULP by the double-double
    reference's own rounding (~2^-53 relative); exact (0 ULP) stays exact."""
    return bound * (1 + 1e-9)


@functools.lru_cache(maxsize=None)
def inputs(kernel, dtype, n=256):
    """A shuffled pool of n values of `dtype` inside the entry's domain, both zeros included."""
    entry = next(e for e in ACTIVATIONS if e.kernel == kernel)
    pool = ulp.sweep(dtype, *entry.domain, n=max(n, 400))
    rng = np.random.default_rng(1)
    pool = np.resize(rng.permutation(pool), n - 2)   # repeated if the domain is narrow
    zeros = np.array([-0.0, 0.0], dtype=dtype)
    return np.concatenate([zeros, pool]).astype(dtype)


# The accuracy sweep (fastact._ulp.binade_sweep): random mantissas per binade of the input
# where the output is not settled, per dtype; settled binades get their edge (float64) and
# one random point (float16, float32).
# Float32 is swept more densely (its references are as dear, its binades 8x fewer).
ACCURACY_DENSITY = {"float16": (16, 1), "float32": (48, 1), "float64": (16, 0)}


@functools.lru_cache(maxsize=None)
def reference(kernel, params, dtype_name):
    """(x, hi, lo): the accuracy sweep of a case in a dtype and its mpmath value."""
    pytest.importorskip("mpmath")
    entry = next(e for e in ACTIVATIONS if e.kernel == kernel)
    per_binade, settled = ACCURACY_DENSITY[dtype_name]
    x = ulp.binade_sweep(entry.reference, params, dtype_name, entry.domain, per_binade, settled)
    hi, lo = ulp.reference(entry.reference, x, *params)
    return x, hi, lo


def bits(a):
    """The bit patterns of a float array (compares -0.0/0.0 and NaN payloads exactly)."""
    a = np.ascontiguousarray(a)
    return a.view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def assert_same_bits(got, expected, what=""):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    diff = np.flatnonzero(bits(got).ravel() != bits(expected).ravel())
    if diff.size:
        i = diff[0]
        raise AssertionError(f"{what}: {diff.size} elements differ, first at flat index {i}: "
                             f"{got.ravel()[i]!r} != {expected.ravel()[i]!r}")
