"""Run-time dispatch: FASTACT_ISA, set_isa, simd_info, show_config."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastact as fa
from fastact import kernels

from activations import bits
from clean_cwd import CLEAN_CWD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fa.__file__)))
INFO = fa.simd_info()
ALL_NAMES = kernels.ISA_NAMES
UNSUPPORTED = [name for name in ALL_NAMES if name not in INFO["available"]]

PROBE = """
import json, numpy as np, fastact as fa
x = np.linspace(-20, 20, 1001)
print(json.dumps({"info": fa.simd_info(), "sigmoid": fa.sigmoid(x).view(np.uint64).tolist()}))
fa.show_config()
"""


def run_with_env(value):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("FASTACT_ISA", None)
    if value is not None:
        env["FASTACT_ISA"] = value
    # cwd outside the source tree, which would shadow an installed fastact (see test_main.py)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120,
                          cwd=CLEAN_CWD)
    assert done.returncode == 0, done.stderr
    first, _, config = done.stdout.partition("\n")
    return json.loads(first), config


def test_simd_info_is_consistent():
    assert INFO["best"] in ALL_NAMES and INFO["current"] in INFO["available"]
    assert INFO["available"] == ALL_NAMES[:ALL_NAMES.index(INFO["best"]) + 1]
    assert "scalar" in INFO["available"]


@pytest.mark.parametrize("name", INFO["available"])
def test_environment_selects_the_variant(name):
    probe, config = run_with_env(name)
    assert probe["info"]["current"] == name
    assert probe["info"]["requested"] == name
    assert f"in use                    : {name}" in config
    assert f"FASTACT_ISA               : {name}\n" in config
    before = fa.simd_info()["current"]           # the same kernel in this process gives the same bits
    try:
        fa.set_isa(name)
        here = fa.sigmoid(np.linspace(-20, 20, 1001)).view(np.uint64).tolist()
    finally:
        fa.set_isa(before)
    assert probe["sigmoid"] == here


def test_no_environment_means_best():
    probe, config = run_with_env(None)
    assert probe["info"]["current"] == INFO["best"] and probe["info"]["requested"] is None
    assert "FASTACT_ISA" not in config


@pytest.mark.parametrize("value", ["bogus", "AVX9000", "", "scalar "] + UNSUPPORTED)
def test_unknown_or_unsupported_value_is_reported_and_falls_back(value):
    probe, config = run_with_env(value)
    if value == "":
        assert probe["info"]["current"] == INFO["best"]
        return
    assert probe["info"]["current"] == INFO["best"]
    assert probe["info"]["requested"] is not None
    assert f"FASTACT_ISA               : {value}" in config
    assert "ignored" in config


def test_set_isa_switches_and_reports(capsys):
    before = fa.simd_info()["current"]
    try:
        for name in INFO["available"]:
            assert fa.set_isa(name) == name
            assert fa.simd_info()["current"] == name
            fa.show_config()
            assert f"in use                    : {name}" in capsys.readouterr().out
        assert fa.set_isa("best") == INFO["best"]
    finally:
        fa.set_isa(before)


@pytest.mark.parametrize("bad", ["bogus", "", "AVX2"] + UNSUPPORTED)   # unsupported: "not supported"
def test_set_isa_rejects_unknown_names(bad):
    before = fa.simd_info()["current"]
    with pytest.raises(ValueError):
        fa.set_isa(bad)
    assert fa.simd_info()["current"] == before


@pytest.mark.parametrize("bad", [3, 3.0, b"avx2", ["avx2"]])
def test_set_isa_rejects_non_strings_with_a_type_error(bad):
    """A non-str name is a TypeError naming its type (it was a ValueError 'unknown kernel variant 3')."""
    before = fa.simd_info()["current"]
    with pytest.raises(TypeError, match=f"set_isa\\(\\) argument must be a str or None, not '{type(bad).__name__}'"):
        fa.set_isa(bad)
    assert fa.simd_info()["current"] == before


def test_set_isa_none_goes_back_to_the_default_variant():
    """set_isa(None) was a ValueError ('unknown kernel variant None'); it now restores the
    variant chosen at import (without FASTACT_ISA: the best one)."""
    want = INFO["requested"] if INFO["requested"] in INFO["available"] else INFO["best"]
    before = fa.simd_info()["current"]
    try:
        fa.set_isa("scalar")
        assert fa.set_isa(None) == want
        assert fa.simd_info()["current"] == want
        fa.set_isa("scalar")                      # the kernels module (for extension authors) too
        assert fa.kernels.set_isa(None) == want == fa.simd_info()["current"]
    finally:
        fa.set_isa(before)


@pytest.mark.parametrize("value", ["scalar", "bogus"] + UNSUPPORTED)
def test_set_isa_none_goes_back_to_a_supported_fastact_isa(value):
    """With FASTACT_ISA=scalar, None means scalar again (what the user configured), not 'best';
    a FASTACT_ISA that was ignored at import is ignored here too."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), FASTACT_ISA=value)
    code = ("import warnings; warnings.simplefilter('ignore'); import fastact as fa; "
            "a = fa.simd_info()['current']; fa.set_isa('best'); print(a, fa.set_isa(None), fa.simd_info()['current'])")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          cwd=CLEAN_CWD)
    assert done.returncode == 0, done.stderr
    want = "scalar" if value == "scalar" else INFO["best"]
    assert done.stdout.split() == [want, want, want]


def test_show_config_names_the_cpu_level_and_functions(capsys):
    fa.show_config()
    out = capsys.readouterr().out
    assert f"best for this CPU and OS  : {INFO['best']}" in out
    for name in ("sigmoid", "gelu_tanh", "relu"):
        assert name in out


def test_every_variant_gives_the_same_exact_results():
    """Piecewise-linear functions are exact: bit-identical on every variant."""
    x = np.concatenate([np.linspace(-10, 10, 997), [np.inf, -np.inf, -0.0, 0.0]])
    before = fa.simd_info()["current"]
    try:
        results = {}
        for name in INFO["available"]:
            fa.set_isa(name)
            results[name] = [bits(f(x)).tolist() for f in (fa.relu, fa.relu6, fa.hardtanh)]
    finally:
        fa.set_isa(before)
    assert all(r == results["scalar"] for r in results.values())
