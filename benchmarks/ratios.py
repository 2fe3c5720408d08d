"""Summarise a pytest-benchmark JSON file.

    PYTHONPATH=. python -m pytest benchmarks/ --benchmark-enable --benchmark-json=bench.json ...
    python benchmarks/ratios.py bench.json [--markdown]

Per group: fastact's median, the fastest peer's, and their ratio (peer / fastact: above 1
means fastact is faster).  For the row-kind groups of bench_reductions.py it then prints,
per function / dtype / shape, the WORST ratio against torch over the row kinds (worst
first) and the spread of fastact's own time (slowest kind / fastest kind).
"""
import json
import sys


def contender(bench):
    params = bench.get("params") or {}
    return str(params.get("impl") or params.get("peer") or params.get("what") or bench["name"])


def load(path):
    with open(path) as fh:
        data = json.load(fh)
    groups, info = {}, {}
    for bench in data["benchmarks"]:
        groups.setdefault(bench["group"], {})[contender(bench)] = bench["stats"]["median"]
        extra = bench.get("extra_info") or {}
        if "kind" in extra:
            info[bench["group"]] = (extra["func"], extra["dtype"], extra["shape"], extra["kind"])
    return groups, info


def rows(groups):
    for group, times in groups.items():
        times = dict(times)
        ours = times.pop("fastact", None)
        if ours is None or not times:
            continue
        peer = min(times, key=times.get)
        yield group, ours, peer, times[peer], times[peer] / ours


def kind_table(groups, info):
    """(func, dtype, shape) -> (worst torch ratio, its kind, best ratio, spread)."""
    per = {}
    for group, key in info.items():
        times = groups[group]
        if "fastact" not in times or "torch" not in times:
            continue
        per.setdefault(key[:3], []).append((times["torch"] / times["fastact"], key[3], times["fastact"]))
    out = []
    for key, vals in per.items():
        worst = min(vals)
        best = max(vals)
        spread = max(v[2] for v in vals) / min(v[2] for v in vals)
        out.append((worst[0], key, worst[1], best[0], best[1], spread))
    return sorted(out)


def main(argv):
    md = "--markdown" in argv
    path = [a for a in argv if not a.startswith("--")][0]
    groups, info = load(path)
    if md:
        print("| group | fastact µs | fastest peer | peer µs | peer / fastact |\n|---|---|---|---|---|")
    for group, ours, peer, theirs, ratio in rows(groups):
        if md:
            print(f"| {group} | {ours * 1e6:.1f} | {peer} | {theirs * 1e6:.1f} | {ratio:.2f}x |")
        else:
            print(f"{group:56s} fastact {ours * 1e6:10.1f} us   {peer:8s} {theirs * 1e6:10.1f} us   {ratio:6.2f}x")
    table = kind_table(groups, info)
    if not table:
        return
    print()
    if md:
        print("| function | dtype | shape | worst torch/fastact | worst kind | best | best kind | "
              "slowest/fastest kind |\n|---|---|---|---|---|---|---|---|")
    for worst, (func, dtype, shape), wkind, best, bkind, spread in table:
        if md:
            print(f"| {func} | {dtype} | {shape} | {worst:.2f}x | {wkind} | {best:.2f}x | {bkind} | {spread:.2f} |")
        else:
            print(f"{func:12s} {dtype:8s} {shape:10s} worst {worst:6.2f}x ({wkind:12s}) "
                  f"best {best:6.2f}x ({bkind:12s}) spread {spread:.2f}")


if __name__ == "__main__":
    from conftest import exit_on_help        # benchmarks/ is sys.path[0] for a script
    exit_on_help(__doc__)
    main(sys.argv[1:])
