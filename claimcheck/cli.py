"""Command line: ``claimcheck list | verify | figures | report | sweep | gpu``.

Exit codes of ``verify``: 0 every check passed; 1 some check failed; 3 none failed but
some were underpowered or skipped for want of optional data (not confirmed); 2 usage errors
(unknown claim id, bad option, an output path that cannot be written: refused in one line
naming the option before any work starts); 4 interrupted (Ctrl-C or SIGTERM: worker
processes are stopped, no partial or temp file is left); 5 an unexpected internal error (one
line; ``CLAIMCHECK_DEBUG=1`` prints the traceback). A traceback never exits with 1, the code
of a failed claim.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from claimcheck import __version__
from claimcheck.budget import BUDGETS
from claimcheck.cliargs import check_output_dir, check_output_file, nonneg_int, positive_int
from claimcheck.io import atomic_write_json, jsonable
from claimcheck.registry import all_claims, claim_ids, get_claim
from claimcheck.verdict import Status, Verdict

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNDERPOWERED, EXIT_INTERRUPTED, EXIT_ERROR = 0, 1, 2, 3, 4, 5


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's default exit code is 2 as well; keep the message clear
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"claimcheck: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="claimcheck", description="Check closed-form claims of deep-learning theory against simulation.")
    p.add_argument("--version", action="version", version=f"claimcheck {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    module_help = ("also load claims from a module (name on sys.path or in the current folder) or a .py file; "
                   "repeatable (installed packages declaring the entry point 'claimcheck.claims' load by themselves)")
    ls = sub.add_parser("list", help="list the registered claims")
    ls.add_argument("--long", action="store_true", help="also show statement, source and default parameters")
    ls.add_argument("--module", action="append", default=[], metavar="MODULE|FILE.py", help=module_help)

    v = sub.add_parser("verify", help="check claims by simulation (default: all)")
    v.add_argument("claims", nargs="*", metavar="CLAIM_ID", help="claim ids or family prefixes (e.g. ridgeless)")
    v.add_argument("--budget", choices=list(BUDGETS), default="standard", help="simulation budget (default: standard)")
    v.add_argument("--seed", type=nonneg_int, default=0, help="random seed; same seed, same verdicts bit for bit")
    v.add_argument("--json", type=Path, metavar="PATH", help="write a JSON report (atomically)")
    v.add_argument("--mutants", action="store_true", help="also check every registered mutant is rejected")
    v.add_argument("--module", action="append", default=[], metavar="MODULE|FILE.py", help=module_help)
    v.add_argument("--jobs", type=positive_int, default=1,
                   help="checks run in parallel processes (one BLAS thread each); same verdicts as --jobs 1")
    v.add_argument("--evidence", choices=["simulation", "measurement", "all"], default="simulation",
                   help="which claims when none is named: decided by simulation (default), on measured results "
                        "(the gpu.* claims re-decide their result files; nothing trains), or all")

    f = sub.add_parser("figures", help="write paper figures (PDF + PNG)")
    f.add_argument("claims", nargs="*", metavar="CLAIM_ID", help="only figures illustrating these claims")
    f.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures)")
    f.add_argument("--seed", type=nonneg_int, default=0)
    f.add_argument("--venue", default="neurips", help="figure widths and fonts: neurips, icml or iclr")
    f.add_argument("--jobs", type=positive_int, default=1,
                   help="figures made in parallel processes (one BLAS thread each); same files as --jobs 1")
    f.add_argument("--module", action="append", default=[], metavar="MODULE|FILE.py", help=module_help)
    f.add_argument("--size", metavar="W,H", help="your own figure size in inches (written to OUT/VENUE-custom/)")
    f.add_argument("--rc", action="append", default=[], metavar="KEY=VALUE",
                   help="matplotlib rcParams on top of the venue style (repeatable; written to OUT/VENUE-custom/)")

    r = sub.add_parser("report", help="write a report (Markdown, LaTeX table or self-contained HTML) from JSON results")
    r.add_argument("inputs", nargs="+", type=Path, metavar="REPORT.json",
                   help="'claimcheck verify --json' reports and/or GPU jobs' result.json files")
    r.add_argument("--format", choices=("md", "tex", "html"), default="md", help="output format (default: md)")
    r.add_argument("--out", type=Path, required=True, metavar="PATH", help="file to write (atomically)")
    r.add_argument("--figures", type=Path, metavar="DIR",
                   help="folder with the figures' PNGs (default: ./figures if it exists)")

    from claimcheck.sweep import add_parser as add_sweep_parser

    add_sweep_parser(sub)

    from claimcheck.gpu_validation.cli import add_parser as add_gpu_parser  # no torch import until a job runs

    add_gpu_parser(sub)
    return p


def _select(ids: Sequence[str], evidence: str = "simulation") -> list:
    """Claims by exact id or by family prefix ('ridgeless' -> 'ridgeless.*'); none given: every claim
    of ``evidence`` ("simulation", "measurement" or "all"; claims on measured results, e.g. gpu.*,
    are named explicitly or chosen with ``--evidence``)."""
    if not ids:
        return all_claims(evidence=None if evidence == "all" else evidence)
    valid = claim_ids()
    chosen: list[str] = []
    for token in ids:
        hits = [c for c in valid if c == token or c.startswith(token + ".")]
        if not hits:
            raise ValueError(f"unknown claim id {token!r}; valid ids:\n  " + "\n  ".join(valid))
        chosen += [h for h in hits if h not in chosen]
    return [get_claim(c) for c in chosen]


def _fmt_params(params: dict) -> str:
    from claimcheck.report import fmt_params

    return fmt_params(params)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _load_modules(args) -> None:
    from claimcheck.registry import load_claims

    for source in getattr(args, "module", []) or []:
        load_claims(source)


def cmd_list(args) -> int:
    claims = all_claims()
    rows = [["id", "kind", "title", "source"]]
    for c in claims:
        rows.append([c.id, c.kind, c.title, c.source.split(";")[0]])
    print(_table(rows))
    if args.long:
        for c in claims:
            print(f"\n{c.id}\n  statement: ${c.statement}$\n  source:    {c.source}\n  default:   {_fmt_params(dict(c.default))}"
                  f"\n  mutants:   {', '.join(m.name for m in c.mutants) or '-'}")
            if c.param_spec is not None:
                print(f"  domain:    {c.param_spec.describe()}")
            if c.notes:
                print(f"  notes:     {c.notes}")
    return EXIT_OK


def _progress(total: int):
    from claimcheck.progress import progress_bar

    return progress_bar(total)


def cmd_verify(args) -> int:
    if args.json:
        check_output_file("--json", args.json)  # before any work: no hour of checks lost to a bad path
    from claimcheck.provenance import environment
    from claimcheck.report import claim_meta, mutant_table, verify_table

    claims = _select(args.claims, getattr(args, "evidence", "simulation"))
    mutant_jobs = [(c, m.name) for c in claims for m in c.mutants] if args.mutants else []
    mutant_rows: list[dict] = []
    t0 = time.perf_counter()
    tasks = [(c.id, i, None) for c in claims for i in range(len(c.points()))]
    n_points = len(tasks)
    tasks += [(c.id, None, name) for c, name in mutant_jobs]
    with _progress(len(tasks)) as bar:
        results = _run_checks(tasks, args, bar)
        verdicts = results[:n_points]
        for (c, name), mv in zip(mutant_jobs, results[n_points:]):
            if mv.status is Status.SKIPPED:
                mutant_rows.append({"claim_id": c.id, "mutant": name, "rejected": None, "z": mv.z, "detail": mv.detail,
                                    "verdict": mv.to_dict()})
            else:
                mutant_rows.append({"claim_id": c.id, "mutant": name, "rejected": mv.status is Status.FAILED,
                                    "z": mv.z, "detail": mv.detail, "verdict": mv.to_dict()})
    elapsed = time.perf_counter() - t0

    metas = {c.id: claim_meta(c) for c in claims}
    dicts = [v.to_dict() for v in verdicts]
    print(verify_table(dicts, metas))
    for v in verdicts:
        if v.status is not Status.PASSED:
            print(f"\n{v}")
    if mutant_rows:
        print("\nmutation tests (each wrong formula must be rejected):")
        print(mutant_table(mutant_rows, metas))

    counts = {s.value: sum(v.status is s for v in verdicts) for s in Status}
    missed = sum(r["rejected"] is False for r in mutant_rows)
    skipped_txt = ""
    if counts["skipped"]:
        reasons = sorted({v.detail.removeprefix("skipped: ") for v in verdicts if v.status is Status.SKIPPED})
        skipped_txt = f", {counts['skipped']} SKIPPED (not checked: {'; '.join(reasons)})"
    print(f"\n{counts['passed']} passed, {counts['failed']} failed, {counts['underpowered']} underpowered{skipped_txt}"
          f"{f', {missed} mutants not rejected' if mutant_rows else ''} in {elapsed:.1f} s (budget {args.budget}, seed {args.seed})")
    if args.json:
        env = environment()
        report = {
            "claimcheck": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "git_revision": env["git"]["revision"],
            "git_dirty": env["git"]["dirty"],
            "python": platform.python_version(),
            "numpy": np.__version__,
            "environment": env,
            "budget": args.budget,
            "seed": args.seed,
            "elapsed_s": round(elapsed, 3),
            "summary": counts,
            "claims": metas,
            "verdicts": dicts,   # each claim's kind is in "claims" (and in the verdict once Verdict carries it)
            "mutants": mutant_rows,
        }
        atomic_write_json(args.json, jsonable(report))
        print(f"report: {args.json}")
    if counts["failed"] or missed:
        return EXIT_FAILED
    if counts["underpowered"] or counts["skipped"]:
        return EXIT_UNDERPOWERED
    return EXIT_OK


def _check_task(task, budget, seed) -> Verdict:
    """One verify task: (claim id, index of the point in ``claim.points()``, None) or (claim id,
    None, mutant name). Claims travel to worker processes by id (they hold functions)."""
    claim_id, index, mutant = task
    claim = get_claim(claim_id)
    if mutant is None:
        return _check_or_skip(claim, claim.points()[index], budget, seed)
    return _check_or_skip(*claim.mutant(mutant), budget, seed)


def _verify_worker(parent_pid: int, modules: list[str]) -> None:
    """Process-pool initializer of ``verify --jobs``: as a figure worker (one BLAS thread, Ctrl-C
    left to the parent, gone when the parent dies), and the ``--module`` claims loaded (a no-op
    where the fork start method inherited them)."""
    from claimcheck.registry import load_claims

    _worker_init(parent_pid)
    for source in modules:
        load_claims(source)


def _run_checks(tasks: list, args, bar) -> list[Verdict]:
    """Verdicts of ``tasks`` in their order: one by one, or with ``--jobs N`` in N processes. Each
    check draws from its own (claim, seed, round) streams, so the verdicts do not depend on the order
    or the process a check runs in."""
    jobs = min(getattr(args, "jobs", 1), len(tasks))
    if jobs <= 1:
        out = []
        from threadpoolctl import threadpool_limits

        from claimcheck.progress import ticking

        # one BLAS thread, as in a --jobs worker: the checks' matrices are small, so a second
        # thread mostly spins (claimcheck verify: 6.4 -> 5.9 CPU s on 2 cores), and the verdicts
        # do not depend on how many cores the machine has
        with threadpool_limits(limits=1, user_api="blas"):
            for task in tasks:
                with ticking(bar, task[0] if task[2] is None else f"{task[0]} [{task[2]}]"):
                    out.append(_check_task(task, args.budget, args.seed))
                bar.update()
        return out
    # fork on Linux starts a worker without re-importing the catalogue (~2 s a process); elsewhere
    # (macOS, Windows) fork is unsafe or absent: spawn, which reloads the --module claims
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    results: list = [None] * len(tasks)
    calls = {i: (_check_task, (task, args.budget, args.seed), {}) for i, task in enumerate(tasks)}
    for i, verdict in _pool_results(calls, workers=jobs, method=method, initializer=_verify_worker,
                                    initargs=(os.getpid(), list(args.module or []))):
        results[i] = verdict
        bar.set_description(tasks[i][0])
        bar.update()
    return results


def _pool_results(calls: dict, *, workers: int, method: str, initializer, initargs):
    """``(key, result)`` of ``calls`` (``{key: (function, args, kwargs)}``) as worker processes finish
    them. A call's error is re-raised here; on it, on Ctrl-C or SIGTERM (or when the caller stops
    early), every worker is stopped at once, not after its current call."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=initializer, initargs=initargs)
    try:
        futures = {pool.submit(fn, *a, **kw): key for key, (fn, a, kw) in calls.items()}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown()


def _check_or_skip(claim, params, budget, seed) -> Verdict:
    """``claim.check``; a missing optional data set or dependency gives a SKIPPED verdict saying
    which (reported in the table and the JSON summary, never dropped)."""
    from claimcheck.errors import DataUnavailable, MissingOptionalDependency

    try:
        return claim.check(params, budget=budget, seed=seed)
    except (DataUnavailable, MissingOptionalDependency) as exc:
        from claimcheck.registry import reproduce_call

        return Verdict.skipped(claim.id, claim.resolve(params), budget, seed, str(exc), call=reproduce_call(claim))


def cmd_report(args) -> int:
    from claimcheck.report import main_report

    path = main_report(args.inputs, args.format, args.out, figures=args.figures)
    print(path)
    return EXIT_OK


def cmd_sweep(args) -> int:
    from claimcheck.sweep import run_cli

    return run_cli(args)


def cmd_figures(args) -> int:
    from claimcheck import paper_figures
    from claimcheck.paper_figures.style import parse_rc, parse_size

    check_output_dir("--out", args.out)
    size, rc = parse_size(args.size), parse_rc(args.rc)
    names = paper_figures.figures_for_claims([c.id for c in _select(args.claims)] if args.claims else [])
    if not names:
        print("no figure illustrates the selected claims", file=sys.stderr)
        return EXIT_OK
    by_name: dict[str, list] = {}
    with _progress(len(names)) as bar:
        if args.jobs == 1 or len(names) == 1:
            for name in names:
                bar.set_description(name)
                by_name[name] = paper_figures.make_all(args.out, names=[name], seed=args.seed, venue=args.venue,
                                                       size=size, rc=rc)
                bar.update()
        else:
            calls = {tuple(group): (paper_figures.make_all, (args.out,),
                                    {"names": group, "seed": args.seed, "venue": args.venue, "size": size, "rc": rc})
                     for group in paper_figures.process_groups(names)}
            for group, paths in _pool_results(calls, workers=min(args.jobs, len(names)), method="spawn",
                                              initializer=_worker_init, initargs=(os.getpid(),)):
                paths = iter(paths)
                for name in group:   # make_all: each figure's PDF and PNG, in the group's order
                    by_name[name] = [next(paths), next(paths)]
                    bar.set_description(name)
                    bar.update()
    for name in names:   # in the registry's order, whatever order the processes finished in
        for path in by_name[name]:
            print(path)
    return EXIT_OK


def _one_thread() -> None:
    """Process-pool initializer: one BLAS/OpenMP thread per figure process (no oversubscription)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _worker_init(parent_pid: int) -> None:
    """Figure-worker initializer: one BLAS thread; Ctrl-C is the parent's to handle (it stops the
    workers, so a terminal's SIGINT to the whole group prints no worker tracebacks); and the
    worker exits within a second of its parent's death, even a SIGKILL (no orphans left running):
    on Linux the kernel sends it SIGTERM then (``prctl(PR_SET_PDEATHSIG)``), elsewhere a watcher
    thread polls the parent id. A worker still importing when the parent dies exits as soon as
    this initializer runs (the parent id has changed by then)."""
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the watcher below still runs
            pass
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    _one_thread()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="claimcheck-parent-watch", daemon=True).start()


def _stop_pool(pool) -> None:
    """Cancel pending figures and terminate the running workers (SIGTERM, then SIGKILL after 3 s)."""
    procs = list(getattr(pool, "_processes", {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + 3.0
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(timeout=1.0)


def cmd_gpu(args) -> int:
    from claimcheck.errors import require

    if args.job != "list":
        require("torch", extra="gpu", purpose="claimcheck gpu")
    from claimcheck.gpu_validation.cli import run_cli

    return run_cli(args)


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt("SIGTERM")  # unwind like Ctrl-C: temp files removed, workers stopped


def main(argv: Sequence[str] | None = None) -> int:
    code = _main(argv)
    if code == EXIT_INTERRUPTED:
        _forget_caught_interrupt()
    return code


def _forget_caught_interrupt() -> None:
    """Keep exit code 4 after a Ctrl-C that was caught. CPython (3.11 at least) remembers a
    KeyboardInterrupt that escaped any ``exec()`` of a string - dataclasses and torch._dynamo's
    import run hundreds - even when our handler caught it later, and under ``python -m`` then ends
    the process by re-raising SIGINT (exit -2 / 130) instead of the code we return. Every
    ``exec`` of a string resets that flag first, so one harmless ``exec`` here makes the caught
    interrupt count as caught (tests/test_cli_faults.py)."""
    exec("None")  # noqa: S102 - a constant string: resets the interpreter's unhandled-interrupt flag


def _main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    old_term = signal.getsignal(signal.SIGTERM)
    if _in_main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if args.command in ("verify", "figures", "sweep"):
            from claimcheck._alloc import tune_for_simulation

            tune_for_simulation()  # where memory comes from, not what is computed (claimcheck/_alloc.py)
        _load_modules(args)
        return {"list": cmd_list, "verify": cmd_verify, "figures": cmd_figures, "report": cmd_report,
                "sweep": cmd_sweep, "gpu": cmd_gpu}[args.command](args)
    except KeyboardInterrupt:
        print("claimcheck: interrupted (nothing partial was written)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ValueError as exc:
        print(f"claimcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:
        from claimcheck.errors import MissingOptionalDependency

        if not isinstance(exc, MissingOptionalDependency):
            return _internal_error(exc)
        print(f"claimcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - a bug: one line and exit 5, never a traceback with exit 1
        return _internal_error(exc)
    finally:
        if _in_main_thread():
            signal.signal(signal.SIGTERM, old_term)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _internal_error(exc: BaseException) -> int:
    if os.environ.get("CLAIMCHECK_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    where = ""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
    msg = str(exc).splitlines()[0] if str(exc) else ""
    print(f"claimcheck: internal error: {type(exc).__name__}: {msg}{where} (a bug; CLAIMCHECK_DEBUG=1 shows the traceback)",
          file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
