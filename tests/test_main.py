"""`python -m fastact`: runs, names the variant, and prints one row per function and dtype."""
import math
import os
import subprocess
import sys
import time

import pytest

import fastact as fa
from fastact._selfcheck import FEATURED
from clean_cwd import CLEAN_CWD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fa.__file__)))
FUNCTIONS = list(FEATURED)


def run_main(isa=None):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("FASTACT_ISA", None)
    if isa:
        env["FASTACT_ISA"] = isa
    start = time.perf_counter()
    # cwd outside the source tree: `-m` puts the cwd first on sys.path, and the checkout's
    # fastact/ (no compiled modules when fastact was pip-installed) would shadow the package
    done = subprocess.run([sys.executable, "-W", "error", "-m", "fastact"], env=env, capture_output=True,
                          text=True, timeout=300, cwd=CLEAN_CWD)
    return done, time.perf_counter() - start


@pytest.fixture(scope="module")
def output():
    done, seconds = run_main()
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr            # no warnings, no noise
    return done.stdout, seconds


def _rows(stdout):
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["function", "dtype"])
    return lines[header], [line.split() for line in lines[header + 1:] if line.strip()]


def test_names_the_variant_and_cpu_level(output):
    stdout, _ = output
    info = fa.simd_info()
    assert f"in use                    : {info['best']}" in stdout
    assert f"best for this CPU and OS  : {info['best']}" in stdout
    assert stdout.splitlines()[0].startswith("fastact ")


def test_one_row_per_function_and_dtype_with_finite_numbers(output):
    stdout, _ = output
    header, rows = _rows(stdout)
    assert [(r[0], r[1]) for r in rows] == [(f, d) for f in FUNCTIONS for d in ("float32", "float64")]
    has_mpmath = "reference: mpmath" in stdout
    for name, dtype, t_fa, t_np, ratio, err, bound in rows:
        assert 0 < float(t_fa) < 10_000, (name, dtype, t_fa)
        if t_np != "-":                   # "-": the NumPy formula needs SciPy's erf (gelu)
            assert 0 < float(t_np) < 10_000 and ratio.endswith("x") and math.isfinite(float(ratio[:-1]))
        else:
            assert name.startswith("gelu")
        if err == "-":
            assert dtype == "float64" and not has_mpmath
        else:                             # the measured error is within the registry's bound
            assert 0 <= float(err) <= float(bound), f"{name} {dtype}: max ULP {err} > {bound}"


def test_columns_are_aligned(output):
    stdout, _ = output
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("function"))
    table = [line for line in lines[start:] if line.strip()]
    assert len({len(line) for line in table}) == 1, table


def test_finishes_in_a_few_seconds(output):
    _, seconds = output
    assert seconds < 30


def test_reports_a_forced_variant():
    done, _ = run_main("scalar")
    assert done.returncode == 0, done.stderr
    assert "in use                    : scalar" in done.stdout


def test_without_mpmath_float32_accuracy_is_still_measured(monkeypatch, capsys):
    """A NumPy-only install: the registry's references evaluated in float64 measure the
    float32 rows (within their bounds); float64 rows say "-" instead of a made-up figure."""
    from fastact import _selfcheck
    monkeypatch.setattr(_selfcheck, "_mpmath", lambda: None)
    monkeypatch.setattr(_selfcheck, "REPEATS", 1)
    assert _selfcheck.main() == 0
    _, rows = _rows(capsys.readouterr().out)
    assert [(r[0], r[1]) for r in rows] == [(f, d) for f in FUNCTIONS for d in ("float32", "float64")]
    for name, dtype, t_fa, t_np, ratio, err, bound in rows:
        if dtype == "float64":
            assert err == "-"
        else:
            assert 0 <= float(err) <= float(bound), (name, err, bound)


def _run_args(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("FASTACT_ISA", None)
    return subprocess.run([sys.executable, "-W", "error", "-m", "fastact", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=CLEAN_CWD)


def test_help_prints_usage_and_runs_nothing():
    """`python -m fastact --help` printed nothing of the kind: it ran the whole self-check
    (seconds of timing) and exited 0 (fifth differential fuzz)."""
    done = _run_args("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m fastact")
    assert not any(line.split()[:2] == ["function", "dtype"] for line in done.stdout.splitlines())


@pytest.mark.parametrize("args", [("--bogus",), ("extra",)])
def test_unknown_arguments_are_a_usage_error(args):
    """Any other argument was ignored (the self-check ran, exit code 0); now argparse's exit 2."""
    done = _run_args(*args)
    assert done.returncode == 2
    assert "unrecognized arguments" in done.stderr and done.stdout == ""
