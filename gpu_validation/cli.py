"""``claimcheck gpu``: list and run the GPU validation jobs (wired into ``claimcheck.cli``). ::

    claimcheck gpu list
    claimcheck gpu JOB --profile smoke|cpu|small|full [--seed N] [--device D] [--threads N] [--out DIR] [--resume]
                       [--data-dir DIR] [--set FIELD=VALUE ...] [--slurm [--partition P] [--shards M] ...]

Exit codes (0-3 as ``claimcheck verify``)::

  0  passed
  1  failed (the measurements contradict the claim)
  2  usage error: unknown job/profile/field, a bad value, data that do not fit the configuration,
     a missing dataset (the message says where to put it), a bad ``--set`` value, an unusable
     or symlinked ``--out``, a corrupt unit/checkpoint file, ``--resume`` of a run folder made
     with another configuration (add ``--force``): one line naming the option or file, before
     any training
  3  underpowered (not confirmed: too few seeds, a CI that straddles the threshold, a precondition
     such as interpolation not met)
  4  interrupted (Ctrl-C, SIGTERM, ``stop_after_steps``; finished units are kept: continue with
     ``--resume``) or diverged (the message says what to change)
  5  runtime failure: the job broke while running (a bug, out of memory, a shape error); the
     message names the job and the unit, the traceback is printed
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import math
import os
import sys
import traceback
from pathlib import Path

from claimcheck.cliargs import check_output_dir, nonneg_int, positive_int
from claimcheck.gpu_validation import JOBS, PROFILE_NAMES


def default_threads() -> int:
    """One thread per two logical CPUs, at least 1 (:func:`gpu_validation.device.default_threads`;
    repeated here so ``--help`` needs no torch)."""
    return max(1, (os.cpu_count() or 1) // 2)

__all__ = ["add_parser", "run_cli"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNDERPOWERED, EXIT_INTERRUPTED, EXIT_RUNTIME = 0, 1, 2, 3, 4, 5

EPILOG = """exit codes: 0 passed, 1 failed, 2 usage error (bad job/profile/field/value, data that do not fit,
missing dataset), 3 underpowered (not confirmed), 4 interrupted or diverged (resume / change the
setting the message names), 5 runtime failure (the job broke while running; traceback printed)"""

_TIMES = {  # expected wall time per profile: smoke measured on a 2-core CPU; small/full are estimates
    "deep_double_descent": ("~5 s CPU", "~10 min GPU", "~50 GPU-days, 1 array"),
    "real_vs_ideal": ("~1 s CPU", "~3 min GPU", "~2 GPU-hours"),
    "hypersphere": ("~5 s CPU", "~10-30 min GPU", "~GPU-hours"),
    "pac_bayes_mnist": ("~1 s CPU", "~3 min GPU", "~1 GPU-hour"),
    "feature_calibration": ("~1 s CPU", "~1 min GPU", "~2 GPU-hours"),
    "norm_growth": ("~2 s CPU", "~5 min GPU", "~1 GPU-hour"),
}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``gpu`` subcommand to an ``argparse`` subparsers object; returns its parser."""
    g = subparsers.add_parser(
        "gpu", help="run a GPU validation job (or 'list' them)",
        description="Run a GPU validation job: 'claimcheck gpu list', 'claimcheck gpu JOB --profile smoke|cpu|small|full'.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument("job", metavar="JOB", help=f"'list' or one of: {', '.join(JOBS)}")
    g.add_argument("--profile", default="smoke", help="smoke (CPU, seconds), cpu (CPU evidence, <= ~15 min of one core), small (one GPU, ~10 min) or full (paper scale)")
    g.add_argument("--seed", type=nonneg_int, default=0, help="base seed; replicates use seed, seed+1, ...")
    g.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: cuda if available, else cpu)")
    g.add_argument("--threads", type=positive_int, default=None,
                   help="torch/BLAS threads of this process (default: one per two logical CPUs, "
                        f"here {default_threads()}; two threads on a busy 2-core box were 4-9x slower than one)")
    g.add_argument("--out", type=Path, default=Path("runs"), help="output folder (default: runs)")
    g.add_argument("--resume", action="store_true", help="continue an interrupted run from its checkpoints")
    g.add_argument("--force", action="store_true",
                   help="with --resume: continue even if the run folder was started with a different configuration")
    g.add_argument("--data-dir", default=None, help="dataset directory (MNIST IDX, CIFAR-10 batches, CIFAR-5m parts)")
    g.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a config field, e.g. --set epochs=10 --set widths='(1,2,4)'")
    g.add_argument("--no-figures", action="store_true", help="skip the PDF/PNG figures")
    s = g.add_argument_group("cluster (submitit)")
    s.add_argument("--slurm", action="store_true", help="submit as a SLURM job array instead of running here")
    s.add_argument("--executor", choices=("slurm", "local", "debug"), default="slurm", help=argparse.SUPPRESS)
    s.add_argument("--partition", default=None, help="SLURM partition")
    s.add_argument("--shards", type=int, default=1, help="array tasks per seed (units split among them)")
    s.add_argument("--seeds", type=int, default=1, help="number of base seeds in the array (seed, seed+1, ...)")
    s.add_argument("--timeout-min", type=int, default=60, help="per-task time limit in minutes")
    s.add_argument("--wait", action="store_true", help="wait for the array and print the collected verdicts")
    return g


def _overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set {item!r}, must be FIELD=VALUE")
        key, text = item.split("=", 1)
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text  # a bare string
        out[key.strip().replace("-", "_")] = value
    return out


def _kind(value) -> str:
    return {bool: "True or False", int: "an integer", float: "a real number", str: "a string"}.get(type(value), type(value).__name__)


def _fits(default, value) -> bool:
    if default is None:
        return True  # optional field: any value (the job validates it)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool) and (default < 0 or value >= 0)
    if isinstance(default, float):
        return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                and (default < 0 or value >= 0))
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, (tuple, list)):
        return isinstance(value, (tuple, list)) and (not default or all(_fits(default[0], v) for v in value))
    return isinstance(value, type(default))


def _check_overrides(mod, profile: str, overrides: dict) -> None:
    """Every ``--set FIELD=VALUE`` of a field the profile defines has the field's type (and, for
    a field whose profile value is >= 0, is >= 0 and finite): refused in one line before any work."""
    cfg = getattr(mod, "PROFILES", {}).get(profile)
    if not dataclasses.is_dataclass(cfg):
        return
    for f in dataclasses.fields(cfg):
        if f.name in overrides:
            default, value = getattr(cfg, f.name), overrides[f.name]
            if not _fits(default, value):
                sign = " >= 0" if isinstance(default, (int, float)) and not isinstance(default, bool) and default >= 0 else ""
                what = f"a tuple of {_kind(default[0])}{sign} values" if isinstance(default, (tuple, list)) and default else \
                    _kind(default) + sign
                raise ValueError(f"--set {f.name}={value!r}: must be {what} like the {profile} profile's {default!r}")


def _list() -> int:
    from claimcheck.gpu_validation import describe

    rows = [("job", "smoke", "small (est.)", "full (est.)", "claim")]
    for name in JOBS:
        try:
            desc = describe(name)
        except ImportError as exc:  # a job whose module is missing is listed, not hidden
            desc = f"(unavailable: {exc})"
        rows.append((name, *_TIMES.get(name, ("?", "?", "?")), desc))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
        if i == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 5)
    print("\nrun: claimcheck gpu JOB --profile smoke|cpu|small|full [--seed N] [--device D] [--out DIR] [--resume]")
    return EXIT_OK


def run_cli(args) -> int:
    """Execute ``claimcheck gpu ...``; returns the exit code."""
    if args.job == "list":
        return _list()
    if args.job not in JOBS:
        print(f"claimcheck: error: unknown GPU job {args.job!r}; choose one of: list, {', '.join(JOBS)}", file=sys.stderr)
        return EXIT_USAGE
    if args.profile not in PROFILE_NAMES:
        print(f"claimcheck: error: unknown profile {args.profile!r}; choose one of: {', '.join(PROFILE_NAMES)}", file=sys.stderr)
        return EXIT_USAGE
    from claimcheck.gpu_validation import get_job, rundir
    from claimcheck.gpu_validation.run import DivergenceError, JobError, RunInterrupted

    if args.force and not args.resume:
        print("claimcheck: error: --force only applies with --resume", file=sys.stderr)
        return EXIT_USAGE
    token = rundir.force_resume.set(bool(args.force))

    threads = args.threads if getattr(args, "threads", None) is not None else default_threads()
    try:
        overrides = _overrides(args.set)
        if args.data_dir is not None:
            overrides["data_dir"] = args.data_dir
        mod = get_job(args.job)
        _check_overrides(mod, args.profile, overrides)
        check_output_dir("--out", args.out, no_symlinks=True)
        if args.slurm:
            from claimcheck.gpu_validation import launch

            seeds = list(range(args.seed, args.seed + args.seeds))
            jobs = launch.submit(args.job, args.profile, seeds=seeds, shards=args.shards, out_dir=args.out,
                                 executor=args.executor, device=args.device, overrides=overrides,
                                 timeout_min=args.timeout_min, slurm_partition=args.partition)
            print(f"submitted {len(jobs)} task(s) of {args.job} ({args.profile}): {', '.join(str(j.job_id) for j in jobs)}")
            if not args.wait:
                print(f"when they finish: claimcheck gpu {args.job} --profile {args.profile} --seed {args.seed} "
                      f"--out {args.out} --resume   (collects the verdict; nothing retrains)")
                return EXIT_OK
            launch.wait(jobs)
            results = launch.collect(args.job, args.profile, seeds, args.out, device=args.device, overrides=overrides)
        else:
            results = [mod.run(args.profile, seed=args.seed, device=args.device, out_dir=args.out, resume=args.resume,
                               figures=not args.no_figures, threads=threads, **overrides)]
    except FileNotFoundError as exc:
        print(f"claimcheck: error: dataset not found: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RunInterrupted as exc:
        print(f"claimcheck: interrupted: {exc}; continue with --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DivergenceError as exc:
        print(f"claimcheck: diverged: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except JobError as exc:
        traceback.print_exception(exc, file=sys.stderr)
        print(f"claimcheck: runtime failure: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except ValueError as exc:   # configuration, values and data that do not fit (UsageError included)
        print(f"claimcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:   # anything else outside a job's own run (launcher, result collection)
        traceback.print_exception(exc, file=sys.stderr)
        print(f"claimcheck: runtime failure: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        print(f"claimcheck: interrupted; finished units are kept in {args.out}: continue with --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        rundir.force_resume.reset(token)
    code = EXIT_OK
    for res in results:
        _print(res)
        status = res["verdict"]["status"] if res.get("verdict") else "underpowered"
        code = max(code, {"passed": EXIT_OK, "failed": EXIT_FAILED, "underpowered": EXIT_UNDERPOWERED}[status],
                   key=lambda c: {EXIT_OK: 0, EXIT_UNDERPOWERED: 1, EXIT_FAILED: 2}[c])
    return code


def _print(res: dict) -> None:
    v, t = res.get("verdict"), res["timings"]
    dev = res["device"]
    thr = t["throughput_samples_per_s"]
    mfu = t["mfu"]
    print(f"{res['job']} ({res['profile']}, seed {res['seed']}) on {dev['type']} {dev.get('name', '')}: "
          f"{t['wall_s']:.1f} s wall, {t['train_s']:.1f} s training, "
          f"{'%.4g samples/s' % thr if thr else 'no training here'}, MFU {'%.1f%%' % (100 * mfu) if mfu else 'n/a (CPU or unknown GPU)'}")
    if v:
        print(f"{v['claim_id']}: {v['status'].upper()}\n  {v['detail']}")
    if res.get("path"):
        print(f"result: {res['path']}")
    for f in res.get("figures", []) or []:
        print(f"figure: {f}")


def main(argv=None) -> int:  # pragma: no cover - convenience entry: python -m claimcheck.gpu_validation.cli
    p = argparse.ArgumentParser(prog="claimcheck")
    add_parser(p.add_subparsers(dest="command", required=True))
    return run_cli(p.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
