"""`import fastact` against `import numpy`: medians of fresh interpreters (issue 2: within 1.25x).

    python benchmarks/import_time.py [repeats]

Each sample starts a new Python; the bare interpreter's start-up is subtracted from both.
With PYTHONDONTWRITEBYTECODE set, fastact's modules (a source checkout) are compiled at every
import while NumPy's installed .pyc files are read: the script then warns, as that is not what
an installed fastact costs.  Measured 2026-12-04 with the bytecode written (load ~6):
import numpy 188.5 ms, import fastact 203.5 ms, ratio 1.08 (fastact's own modules ~7 ms of it,
`python -X importtime -c "import fastact"`).
"""
import os
import statistics
import subprocess
import sys
import time


def seconds(code):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main(repeats=15):
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("warning: PYTHONDONTWRITEBYTECODE is set: fastact's .py files are compiled at every import "
              "(run with it unset, after `python -m compileall fastact`)")
    bare, numpy, fastact = [], [], []
    for _ in range(repeats):          # interleaved, so load changes hit all three alike
        bare.append(seconds("pass"))
        numpy.append(seconds("import numpy"))
        fastact.append(seconds("import fastact"))
    base = statistics.median(bare)
    t_np, t_fa = statistics.median(numpy) - base, statistics.median(fastact) - base
    print(f"import numpy {t_np * 1e3:.1f} ms, import fastact (numpy included) {t_fa * 1e3:.1f} ms, "
          f"ratio {t_fa / t_np:.2f}")


if __name__ == "__main__":
    from conftest import exit_on_help        # benchmarks/ is sys.path[0] for a script
    exit_on_help(__doc__)
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
