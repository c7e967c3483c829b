"""Run every benchmark and write its results under benchmarks/results/.

    python -m benchmarks.run            # full run (< 60 s on 2 cores), writes <name>.json/.md
    python -m benchmarks.run --quick    # smoke run (< 20 s), writes <name>.quick.json/.md

BLAS threads: by default the run pins BLAS (and torch) to ONE thread, set before numpy is
imported. On the 2-core reference machine, 2-thread lstsq is only ~5% faster when the machine
is idle, and far slower (up to ~5x) when other jobs hold the cores, because OpenBLAS threads
then wait on each other; the fast path is single-threaded. --blas-threads 0 leaves the
environment as it is.

Benchmarks are measurements, not tests: the exit status is 0 whether or not a target is met
(use --strict to exit 1 when a stated target is missed).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
_BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# Each module exposes run(quick, seed, out_dir) -> dict with a 'summary' string and a
# 'target' dict holding 'met'.
BENCHMARKS = ["benchmarks.bench_ridgeless", "benchmarks.bench_deep_bootstrap", "benchmarks.bench_gpu_batched",
              "benchmarks.bench_gpu_verdicts"]
# Run only when named with --only (minutes, not seconds): the n = 1e3 ... 1e6 scaling table.
OPTIONAL = ["benchmarks.bench_ridgeless_scaling"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats/replicates (< 20 s); writes *.quick.*")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"results directory (default {RESULTS_DIR})")
    ap.add_argument("--only", action="append", default=None, help="run only benchmarks whose module name contains this")
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="threads for BLAS/torch, set before numpy is imported (default 1; 0 = leave as is)")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a benchmark misses its stated target")
    args = ap.parse_args(argv)

    if args.blas_threads > 0:
        if "numpy" in sys.modules:
            print("warning: numpy already imported; --blas-threads may not take effect", file=sys.stderr)
        for var in _BLAS_VARS:
            os.environ[var] = str(args.blas_threads)
    names = [b for b in BENCHMARKS if not args.only or any(o in b for o in args.only)]
    names += [b for b in OPTIONAL if args.only and any(o in b.rsplit(".", 1)[-1] for o in args.only) and b not in names]
    if not names:
        ap.error(f"--only {args.only} matches none of {BENCHMARKS + OPTIONAL}")
    t0 = time.perf_counter()
    missed = []
    for name in names:
        mod = importlib.import_module(name)
        t1 = time.perf_counter()
        print(f"== {name} ({'quick' if args.quick else 'full'}) ...", flush=True)
        res = mod.run(quick=args.quick, seed=args.seed, out_dir=args.out)
        print(res["summary"])
        print(f"   [{time.perf_counter() - t1:.1f} s; results in {args.out}]", flush=True)
        if not res.get("target", {}).get("met", True):
            missed.append(name)
    print(f"== all benchmarks done in {time.perf_counter() - t0:.1f} s")
    if missed:
        print(f"target missed: {', '.join(missed)}")
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
