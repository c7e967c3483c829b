"""Measure every job's ``small`` profile on one GPU and record device, time, throughput, MFU, verdict.

    python -m claimcheck.gpu_validation.measure_small                       # all jobs, small profile, cuda
    python -m claimcheck.gpu_validation.measure_small --jobs real_vs_ideal pac_bayes_mnist --out runs/measure

Writes ``OUT/measure-small.json`` (one record per job: device, torch, git revision, wall
time, training time, samples/s, MFU, verdict status and detail; atomically, after every job,
so a crash keeps the finished ones) and ``OUT/measure-small.md`` (the table for
``gpu_validation/README.md``). A job that raises is recorded with its error and the others
still run. ``--profile smoke --device cpu`` runs the same script on a laptop in a minute.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
import traceback
from pathlib import Path

from claimcheck.io import atomic_write_json, atomic_write_text
from claimcheck.gpu_validation import JOBS, PROFILE_NAMES, get_job

__all__ = ["measure", "table", "main"]


def measure(jobs=None, *, profile: str = "small", device: str | None = None, out_dir="runs/measure", seed: int = 0,
            resume: bool = False) -> list[dict]:
    """Run ``profile`` of each job; returns and writes one record per job."""
    from claimcheck.gpu_validation.run import git_revision

    jobs = list(jobs or JOBS)
    for j in jobs:
        get_job(j)  # unknown job -> ValueError before anything runs
    out_dir = Path(out_dir)
    records: list[dict] = []
    for j in jobs:
        t0 = time.perf_counter()
        rec = {"job": j, "profile": profile}
        try:
            res = get_job(j).run(profile, seed=seed, device=device, out_dir=out_dir, resume=resume, progress=None)
            t, v = res["timings"], res["verdict"]
            rec.update(device=res["device"], torch=res["torch"], git_revision=res["git_revision"], wall_s=t["wall_s"],
                       train_s=t["train_s"], samples_per_s=t["throughput_samples_per_s"], mfu=t["mfu"],
                       status=v["status"], claim_id=v["claim_id"], detail=v["detail"], result=res.get("path"))
        except Exception as exc:  # record and go on: one broken job must not hide the others
            rec.update(status="error", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=5),
                       wall_s=time.perf_counter() - t0)
        records.append(rec)
        doc = {"created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "git_revision": git_revision(),
               "profile": profile, "records": records}
        atomic_write_json(out_dir / f"measure-{profile}.json", doc)
        atomic_write_text(out_dir / f"measure-{profile}.md", table(records))
        print(table([rec]).splitlines()[-1], flush=True)
    return records


def table(records: list[dict]) -> str:
    """Markdown table: job | device | wall | samples/s | MFU | verdict."""
    lines = ["| job | device | wall time | samples/s | MFU | verdict |", "|---|---|---|---|---|---|"]
    for r in records:
        dev = r.get("device") or {}
        sps = f"{r['samples_per_s']:.3g}" if r.get("samples_per_s") else "-"
        mfu = f"{100 * r['mfu']:.1f}%" if r.get("mfu") else "-"
        verdict = r["status"] if r["status"] != "error" else f"error: {r.get('error', '')[:80]}"
        lines.append(f"| {r['job']} | {dev.get('name', '-')} | {r['wall_s'] / 60:.1f} min | {sps} | {mfu} | {verdict} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m claimcheck.gpu_validation.measure_small", description=__doc__.splitlines()[0])
    p.add_argument("--jobs", nargs="*", default=None, help=f"default: all of {', '.join(JOBS)}")
    p.add_argument("--profile", choices=PROFILE_NAMES, default="small")
    p.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    p.add_argument("--out", type=Path, default=Path("runs/measure"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="reuse finished units (timings then cover only the rest)")
    args = p.parse_args(argv)
    try:
        records = measure(args.jobs, profile=args.profile, device=args.device, out_dir=args.out, seed=args.seed,
                          resume=args.resume)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n" + table(records))
    print(f"written: {args.out / f'measure-{args.profile}.json'} and .md")
    return 1 if any(r["status"] == "error" for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
