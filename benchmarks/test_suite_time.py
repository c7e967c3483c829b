"""Summarise the test suite's CPU time per module and per test.

The numbers come from the opt-in recorder in ``tests/conftest.py``::

    CLAIMCHECK_TEST_TIMES=/tmp/times.json make test      # one file per xdist worker: /tmp/times.json.gwN
    python -m benchmarks.test_suite_time /tmp/times.json  # markdown tables on stdout

Each test's CPU seconds are its own process's (``time.process_time``) plus the subprocesses it
waited for (``RUSAGE_CHILDREN``), for set-up + call + tear-down; wall seconds beside them. Nothing
here is asserted: the suite never times itself.
"""
from __future__ import annotations

import argparse
import glob
import json
from collections import defaultdict


def load(prefix: str) -> tuple[dict[str, list[float]], list[list[float]]]:
    """Per-test [cpu own, cpu children, wall] and the collection costs, over all worker files."""
    paths = sorted(glob.glob(prefix + ".gw*")) or [prefix]
    tests: dict[str, list[float]] = {}
    collection = []
    for path in paths:
        with open(path) as fh:
            data = json.load(fh)
        tests.update(data["tests"])
        if data.get("collection"):
            collection.append(data["collection"])
    if not tests:
        raise ValueError(f"no recorded tests under {prefix!r} (run the suite with CLAIMCHECK_TEST_TIMES={prefix})")
    return tests, collection


def tables(prefix: str, top: int = 25) -> str:
    tests, collection = load(prefix)
    per_module: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for nodeid, (own, children, wall) in tests.items():
        row = per_module[nodeid.split("::")[0]]
        row[0] += 1
        row[1] += own + children
        row[2] += children
        row[3] += wall
    total = sum(r[1] for r in per_module.values())
    lines = [f"{len(tests)} tests, {total:.0f} CPU s inside tests; collection per process: "
             + ", ".join(f"{c[0] + c[1]:.1f} CPU s / {c[2]:.1f} wall s" for c in collection), "",
             "| module | tests | CPU s | of which subprocesses | wall s |", "|---|---|---|---|---|"]
    for mod, (n, cpu, sub, wall) in sorted(per_module.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"| {mod.rsplit('/', 1)[-1]} | {n} | {cpu:.1f} | {sub:.1f} | {wall:.1f} |")
    lines += ["", f"Top {top} tests by CPU s:", "", "| test | CPU s | wall s |", "|---|---|---|"]
    for nodeid, (own, children, wall) in sorted(tests.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:top]:
        lines.append(f"| `{nodeid.split('/', 1)[-1]}` | {own + children:.2f} | {wall:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prefix", help="the CLAIMCHECK_TEST_TIMES path of the run")
    ap.add_argument("--top", type=int, default=25, help="how many single tests to list")
    args = ap.parse_args(argv)
    print(tables(args.prefix, args.top))


if __name__ == "__main__":
    main()
