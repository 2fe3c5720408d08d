"""Row-by-row kernel calls from a downstream extension vs one Python API call.

    PYTHONPATH=/path/to/fastact python examples/embedding/bench_rows.py [--rows 1024 --n 1024]

Builds the two consumers of this folder (Cython and C, in a temporary folder, against
the fastact that `import fastact` finds), then times, on a C-contiguous float32
(rows, n) array, interleaved and repeated (medians, and the median of the per-round
ratios, which the noise of a shared machine disturbs least):
  - consumer.<f>_rows(x, o): one fa_<f>_f32 call per row, in a nogil loop;
  - the Python API on the whole array: fastact.leaky_relu(x, 0.01, out=o) (the cheapest
    kernel, where the per-call cost shows most), fastact.sigmoid(x, out=o),
    fastact.softmax(x, axis=-1, out=o).
The target is a ratio (per-row / whole array) of at most 1.1.
"""
import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import importlib.util
from pathlib import Path

import numpy as np

import fastact

HERE = Path(__file__).resolve().parent


def build_consumers(tmp):
    """{'cython': module, 'c': module}, built with setup.py in a copy of each example."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(fastact.__file__).resolve().parents[1])] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    modules = {}
    for example, name in (("cython", "fastact_rows_cy"), ("c", "fastact_rows_c")):
        work = Path(tmp) / example
        shutil.copytree(HERE / example, work, ignore=shutil.ignore_patterns("build", "*.so", "fastact_rows_cy.c"))
        subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=work, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        spec = importlib.util.spec_from_file_location(name, work / (name + sysconfig.get_config_var("EXT_SUFFIX")))
        modules[example] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules[example])
    return modules


def whole_softmax():
    return "fastact.softmax(x, axis=-1, out=o)", lambda x, o: fastact.softmax(x, axis=-1, out=o)


def per_call_seconds(fn, x, o, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn(x, o)
    return (time.perf_counter() - t0) / number


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1024)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--number", type=int, default=5, help="calls per timing")
    args = ap.parse_args()

    x = np.random.default_rng(0).standard_normal((args.rows, args.n)).astype(np.float32)
    o = np.empty_like(x)
    softmax_label, softmax_whole = whole_softmax()
    with tempfile.TemporaryDirectory() as tmp:
        consumers = build_consumers(tmp)
        # leaky_relu: the cheapest kernel, so the per-call overhead shows most
        cases = [("leaky_relu", "fastact.leaky_relu(x, 0.01, out=o)",
                  lambda x, o: fastact.leaky_relu(x, 0.01, out=o)),
                 ("sigmoid", "fastact.sigmoid(x, out=o)", lambda x, o: fastact.sigmoid(x, out=o)),
                 ("softmax", softmax_label, softmax_whole)]
        print(f"fastact {fastact.__version__}, kernel variant {fastact.simd_info()['current']}, "
              f"float32 ({args.rows}, {args.n}), {args.rounds} interleaved rounds x {args.number} calls")
        for fname, label, whole in cases:
            variants = {"whole": whole}
            for c, m in consumers.items():
                rows_fn = getattr(m, f"{fname}_rows")
                variants[f"{c} per row"] = ((lambda x, o, f=rows_fn: f(x, o, 0.01)) if fname == "leaky_relu"
                                            else rows_fn)
            times = {k: [] for k in variants}
            for _ in range(args.rounds):
                for k, fn in variants.items():
                    times[k].append(per_call_seconds(fn, x, o, args.number))
            whole_t = np.array(times["whole"])
            print(f"\n{fname}: whole array = {label}: median {np.median(whole_t) * 1e3:.3f} ms")
            for k in variants:
                if k == "whole":
                    continue
                t = np.array(times[k])
                print(f"  {k:16s} median {np.median(t) * 1e3:.3f} ms   ratio per-row/whole: "
                      f"of medians {np.median(t) / np.median(whole_t):.3f}, "
                      f"median of per-round ratios {np.median(t / whole_t):.3f}")


if __name__ == "__main__":
    main()
