"""`python benchmarks/<script>.py --help` prints the script's docstring (its usage) and exits 0,
running nothing.  bench_gradients.py, bench_losses.py and bench_bce.py took --help as an unknown
option (their docstring on stderr, exit status 1); ratios.py, import_time.py and variants.py
ended in a traceback and dask_task_stream.py ran its benchmark."""
import ast
import importlib.util
import os
import subprocess
import sys

import pytest

import fastact as fa

from clean_cwd import CLEAN_CWD

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fa.__file__)))


def _scripts():
    if not os.path.isdir(BENCHMARKS):          # an installed fastact tested without its checkout
        return []
    return sorted(f for f in os.listdir(BENCHMARKS) if f.endswith(".py")
                  and 'if __name__ == "__main__":' in open(os.path.join(BENCHMARKS, f)).read())


def test_the_scripts_are_found():
    if not os.path.isdir(BENCHMARKS):
        pytest.skip("no benchmarks/ beside tests/")
    assert {"bench_gradients.py", "bench_losses.py", "bench_bce.py", "threads.py", "ratios.py"} <= set(_scripts())


@pytest.mark.parametrize("script", _scripts())
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_the_docstring_and_exits_0(script, flag):
    path = os.path.join(BENCHMARKS, script)
    with open(path) as f:
        source = f.read()
    if "dask" in script and importlib.util.find_spec("distributed") is None:      # bench_dask, dask_task_stream
        pytest.skip("dask / distributed not installed")
    doc = ast.get_docstring(ast.parse(source), clean=False)
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, path, flag], env=env, capture_output=True, text=True, timeout=300,
                          cwd=CLEAN_CWD)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    if "argparse" in source:                   # argparse's usage line, then the docstring
        assert done.stdout.startswith("usage: ") and doc.strip() in done.stdout
    else:
        assert done.stdout.strip() == doc.strip()
