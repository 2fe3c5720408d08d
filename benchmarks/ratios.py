"""Summarise a pytest-benchmark JSON file: per group, fastact's median, the fastest peer's,
and their ratio (peer / fastact: above 1 means fastact is faster).

    PYTHONPATH=. python -m pytest benchmarks/ --benchmark-enable --benchmark-json=bench.json ...
    python benchmarks/ratios.py bench.json [--markdown]
"""
import json
import sys


def contender(bench):
    params = bench.get("params") or {}
    return str(params.get("impl") or params.get("peer") or params.get("what") or bench["name"])


def rows(path):
    with open(path) as fh:
        data = json.load(fh)
    groups = {}
    for bench in data["benchmarks"]:
        groups.setdefault(bench["group"], {})[contender(bench)] = bench["stats"]["median"]
    for group, times in groups.items():
        ours = times.pop("fastact", None)
        if ours is None or not times:
            continue
        peer = min(times, key=times.get)
        yield group, ours, peer, times[peer], times[peer] / ours


def main(argv):
    md = "--markdown" in argv
    path = [a for a in argv if not a.startswith("--")][0]
    if md:
        print("| group | fastact µs | fastest peer | peer µs | peer / fastact |\n|---|---|---|---|---|")
    for group, ours, peer, theirs, ratio in rows(path):
        if md:
            print(f"| {group} | {ours * 1e6:.1f} | {peer} | {theirs * 1e6:.1f} | {ratio:.2f}x |")
        else:
            print(f"{group:48s} fastact {ours * 1e6:10.1f} us   {peer:8s} {theirs * 1e6:10.1f} us   {ratio:6.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
