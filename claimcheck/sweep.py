"""``claimcheck sweep``: one claim checked over a grid of its parameters, cached, drawn as a heatmap.

The grid is the cartesian product of ``--grid NAME=VALUES`` (other parameters keep the
claim's defaults). Points run in parallel on the machine's cores (a process pool, one
BLAS/OpenMP/torch thread per process) or, for big grids, as one submitit job array on a
SLURM cluster (``--slurm``). Every finished point is written to a cache keyed by the claim
id, the full parameter point, the budget, the seed and the claimcheck version (one JSON file
per point, written atomically; nothing is pickled), so a rerun, or a wider grid, only
computes the points that are new. A point where the claim is not defined (its check raises
ValueError: outside the declared domain, e.g. ``|n - p| < 4`` for the finite-n min-norm risk) is
recorded with the reason. ``CLAIM`` may name a registered mutant, ``id[mutant]``: the heatmap
then shows where in the domain the claim's check rejects that wrong formula.

The figure is a heatmap of z (or of the relative error of the formula) over the first two
swept parameters, with each cell marked by its verdict; further swept parameters give one
panel each. Example: where does the proportional-limit double-descent formula become
accurate? ::

    claimcheck sweep ridgeless.minnorm_asymptotic --grid n0=10,20,30,40 --grid p0=4,30,60,80 \\
        --color relerr --budget quick --json reports/sweep.json

Python::

    from claimcheck.sweep import sweep, save_heatmap
    result = sweep("ridgeless.minnorm_finite", {"n": [20, 40], "p": [5, 10, 60]}, budget="quick")
    save_heatmap(result, "figures", color="z")
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import itertools
import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from claimcheck.io import atomic_write_json, jsonable

__all__ = ["parse_grid", "grid_points", "cache_key", "sweep", "relative_error", "draw_heatmap", "save_heatmap",
           "heatmap_name", "COLORS", "DEFAULT_CACHE"]

COLORS = ("z", "relerr")
DEFAULT_CACHE = Path(".claimcheck-cache")
"""Default cache folder (relative to the working directory)."""
MAX_PANELS = 16


# --------------------------------------------------------------------------- the grid
def _cast(name: str, text: str, default: Any):
    """``text`` as the type of the claim's default value for ``name``."""
    text = text.strip()
    if isinstance(default, bool):
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"{name}={text!r}, must be true or false")
    if isinstance(default, (int, np.integer)):
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{name}={text!r}, must be an integer") from None
        if not value.is_integer():
            raise ValueError(f"{name}={text!r}, must be an integer")
        return int(value)
    if isinstance(default, (float, np.floating)):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{name}={text!r}, must be a number") from None
    if isinstance(default, str):
        return text
    raise ValueError(f"{name}: parameters of type {type(default).__name__} cannot be swept from the command line "
                     "(use claimcheck.sweep.sweep with Python values)")


def _expand(name: str, spec: str, default: Any) -> list:
    """VALUES: ``a,b,c``; ``start:stop:step`` (inclusive); ``log:start:stop:count`` (geometric)."""
    if spec.startswith("log:"):
        parts = spec.split(":")[1:]
        if len(parts) != 3:
            raise ValueError(f"{name}={spec!r}: log grids are log:START:STOP:COUNT")
        lo, hi, cnt = (float(parts[0]), float(parts[1]), parts[2])
        if lo <= 0 or hi <= 0 or not cnt.isdigit() or int(cnt) < 2:
            raise ValueError(f"{name}={spec!r}: log:START:STOP:COUNT needs START, STOP > 0 and COUNT >= 2")
        vals = np.geomspace(lo, hi, int(cnt))
        if isinstance(default, (int, np.integer)) and not isinstance(default, bool):
            out = sorted({int(round(v)) for v in vals})
        else:
            out = [float(v) for v in vals]
        return out
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise ValueError(f"{name}={spec!r}: ranges are START:STOP:STEP (inclusive)")
        start, stop, step = (_cast(name, p, default if not isinstance(default, str) else 0.0) for p in parts)
        if step <= 0 or stop < start:
            raise ValueError(f"{name}={spec!r}: need STEP > 0 and STOP >= START")
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        return [type(start)(start + i * step) if isinstance(start, int) else start + i * step for i in range(count)]
    vals = [_cast(name, v, default) for v in spec.split(",") if v.strip()]
    if not vals:
        raise ValueError(f"{name}={spec!r}: no values")
    return vals


def parse_grid(claim, specs: Sequence[str]) -> dict[str, list]:
    """``["n=10,20", "p=5:15:5"]`` -> ``{"n": [10, 20], "p": [5, 10, 15]}``, values of the
    types of the claim's defaults; unknown names and repeated names are ValueErrors.

    >>> from claimcheck import get_claim
    >>> parse_grid(get_claim("ridgeless.minnorm_finite"), ["n=10,20", "p=5:15:5", "noise=log:0.1:10:3"])
    {'n': [10, 20], 'p': [5, 10, 15], 'noise': [0.1, 1.0, 10.0]}
    """
    if not specs:
        raise ValueError("grid is empty: give at least one --grid NAME=VALUES")
    grid: dict[str, list] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--grid {spec!r}, must be NAME=VALUES (e.g. n=10,20,40)")
        if name not in claim.default:
            raise ValueError(f"--grid {name!r} is not a parameter of {claim.id!r}; valid: {sorted(claim.default)}")
        if name in grid:
            raise ValueError(f"--grid {name!r} given twice")
        vals = _expand(name, values.strip(), claim.default[name])
        if len(set(map(repr, vals))) != len(vals):
            raise ValueError(f"--grid {name}: repeated values in {vals}")
        grid[name] = vals
    return grid


def grid_points(claim, grid: Mapping[str, Sequence]) -> list[dict[str, Any]]:
    """Every full parameter point of the grid (cartesian product, first name slowest)."""
    names = list(grid)
    return [claim.resolve(dict(zip(names, combo))) for combo in itertools.product(*(grid[n] for n in names))]


# --------------------------------------------------------------------------- cache
def _version() -> str:
    from claimcheck import __version__

    return __version__


def cache_key(claim_id: str, params: Mapping[str, Any], budget: str, seed: int) -> str:
    """Hex digest identifying one check: claim id, parameters, budget, seed, claimcheck version."""
    blob = json.dumps({"claim": claim_id, "params": jsonable(dict(params)), "budget": budget, "seed": seed,
                       "claimcheck": _version()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def _cache_path(cache: Path, claim_id: str, key: str) -> Path:
    return cache / claim_id / f"{key}.json"


def _cache_read(cache: Path | None, claim_id: str, params, budget: str, seed: int) -> dict | None:
    if cache is None:
        return None
    key = cache_key(claim_id, params, budget, seed)
    path = _cache_path(cache, claim_id, key)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or unreadable: recompute (the write is atomic, so this is rare)
    if entry.get("key") != key or entry.get("claimcheck") != _version():
        return None
    return entry


def _one_thread() -> None:
    """Worker initializer: one BLAS/OpenMP thread (and one torch thread, if torch is loaded)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def check_point(claim, params: Mapping[str, Any], budget: str, seed: int, cache: "str | Path | None") -> dict:
    """Check one point (``claim``: a Claim or a registered id) and store it in ``cache``.

    Returns ``{"params", "verdict" (dict or None), "error" (None or the ValueError's message),
    "seconds", "key", "claimcheck"}``; a ValueError (the claim is not defined there) is a result,
    any other exception propagates.
    """
    from claimcheck.registry import get_claim

    from claimcheck.errors import DataUnavailable, MissingOptionalDependency
    from claimcheck.verdict import Verdict

    claim = get_claim(claim)
    params = dict(params)
    t0 = time.perf_counter()
    skipped = False
    try:
        verdict, error = claim.check(params, budget=budget, seed=seed).to_dict(), None
    except (DataUnavailable, MissingOptionalDependency) as exc:   # SKIPPED, as in verify; never cached
        verdict, error, skipped = Verdict.skipped(claim.id, params, budget, seed, str(exc)).to_dict(), None, True
    except ValueError as exc:
        verdict, error = None, str(exc)
    entry = {"claim_id": claim.id, "params": jsonable(params), "budget": budget, "seed": seed,
             "claimcheck": _version(), "key": cache_key(claim.id, params, budget, seed),
             "verdict": verdict, "error": error, "seconds": round(time.perf_counter() - t0, 4)}
    if cache is not None and not skipped:
        atomic_write_json(_cache_path(Path(cache), claim.id, entry["key"]), entry)
    return entry


def check_points(claim_id: str, points: Sequence[Mapping[str, Any]], budget: str, seed: int, cache) -> list[dict]:
    """One SLURM array task: check ``points`` in order (each cached as soon as it is done)."""
    _one_thread()
    return [check_point(claim_id, p, budget, seed, cache) for p in points]


# --------------------------------------------------------------------------- the sweep
def sweep(claim, grid: Mapping[str, Sequence], *, budget: str = "quick", seed: int = 0, jobs: int | None = None,
          cache: "str | Path | None" = DEFAULT_CACHE, slurm: Mapping[str, Any] | None = None,
          progress: bool = False) -> dict:
    """Check ``claim`` at every point of ``grid``; returns the sweep result (JSON-ready dict).

    ``jobs``: worker processes (default: the machine's cores; 1 runs in this process, which
    is also what a claim from outside claimcheck's catalogue gets: fresh worker processes
    could not find it). ``cache``: folder of per-point results
    (None: no cache). ``slurm``: submit the uncached points as one submitit job array instead,
    with keys ``executor`` ("slurm", "local" or "debug"), ``folder``, ``partition``,
    ``timeout_min``, ``array_parallelism``, ``chunk`` (points per task).
    """
    from claimcheck.budget import get_budget
    from claimcheck.provenance import environment
    from claimcheck.registry import get_claim
    from claimcheck.report import claim_meta

    claim = get_claim(claim)
    budget = get_budget(budget).name
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r}, must be an integer >= 0")
    seed = int(seed)
    if jobs is None:
        jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs={jobs!r}, must be an integer >= 1")
    grid = {k: list(v) for k, v in grid.items()}
    for k in grid:
        if k not in claim.default:
            raise ValueError(f"grid name {k!r} is not a parameter of {claim.id!r}; valid: {sorted(claim.default)}")
    points = grid_points(claim, grid)
    cache = Path(cache) if cache is not None else None
    t0 = time.perf_counter()
    entries: list[dict | None] = [_cache_read(cache, claim.id, p, budget, seed) for p in points]
    cached = [e is not None for e in entries]
    todo = [i for i, e in enumerate(entries) if e is None]
    registered = _is_registered(claim)
    if todo and slurm is not None:
        if not registered:
            raise ValueError(f"claim {claim.id!r} is not registered: SLURM tasks can only check registered claims")
        for i, e in zip(todo, _run_slurm(claim.id, [points[i] for i in todo], budget, seed, cache, slurm)):
            entries[i] = e
    elif todo and jobs > 1 and len(todo) > 1 and registered:
        for i, e in _run_pool(claim.id, points, todo, budget, seed, cache, jobs, progress):
            entries[i] = e
    else:
        bar = _bar(len(todo), progress)
        for i in todo:
            entries[i] = check_point(claim, points[i], budget, seed, cache)
            bar.update()
        bar.close()
    elapsed = time.perf_counter() - t0
    results = [{**e, "cached": c} for e, c in zip(entries, cached)]
    summary = {"points": len(points), "computed": len(todo), "cached": sum(cached), "invalid": 0,
               "passed": 0, "failed": 0, "underpowered": 0, "skipped": 0}
    for e in results:
        if e["verdict"] is None:
            summary["invalid"] += 1
        else:
            summary[e["verdict"]["status"]] += 1
    return jsonable({
        "claimcheck": _version(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "claim_id": claim.id,
        "claim": claim_meta(claim),
        "grid": grid,
        "budget": budget,
        "seed": seed,
        "jobs": jobs if slurm is None else None,
        "slurm": dict(slurm) if slurm is not None else None,
        "elapsed_s": round(elapsed, 3),
        "environment": environment(),
        "summary": summary,
        "points": results,
    })


def _is_registered(claim) -> bool:
    """True if a fresh worker process finds this very claim: it is in the registry and was
    defined by claimcheck's own catalogue (a user's claim, registered by a module the workers
    never import, is checked in this process instead)."""
    from claimcheck.registry import _split_mutant, get_claim

    base_id, mutant = _split_mutant(claim.id)
    try:
        base = get_claim(base_id)
        # a mutant ("id[name]") is rebuilt by get_claim in each worker: the same formula object
        same = base is claim if mutant is None else get_claim(claim.id).predict is claim.predict
    except ValueError:
        return False
    return same and str(getattr(base.predict, "__module__", "")).startswith("claimcheck.")


def _bar(total: int, show: bool):
    from claimcheck.progress import progress_bar

    return progress_bar(total, unit="point", disable=None if show else True)


def _run_pool(claim_id, points, todo, budget, seed, cache, jobs, progress):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    bar = _bar(len(todo), progress)
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=_one_thread,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(check_point, claim_id, points[i], budget, seed, cache): i for i in todo}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()   # a worker's unexpected exception is re-raised here
                bar.update()
    finally:
        bar.close()


def _run_slurm(claim_id, points, budget, seed, cache, opts) -> list[dict]:
    """Uncached points as one submitit job array (``chunk`` points per task); waits for it."""
    from claimcheck.errors import require

    submitit = require("submitit", extra="gpu", purpose="claimcheck sweep --slurm")
    executor = opts.get("executor", "slurm")
    if executor not in ("slurm", "local", "debug"):
        raise ValueError(f"executor={executor!r}, must be 'slurm', 'local' or 'debug'")
    chunk = int(opts.get("chunk", 1))
    if chunk < 1:
        raise ValueError(f"chunk={chunk!r}, must be an integer >= 1")
    folder = Path(opts.get("folder") or (Path(cache or ".") / "submitit" / claim_id))
    ex = submitit.AutoExecutor(folder=folder, cluster=executor)
    params: dict[str, Any] = {"timeout_min": int(opts.get("timeout_min", 60)), "name": f"claimcheck-sweep-{claim_id}"}
    if executor != "debug":
        params.update(cpus_per_task=1)
    if executor == "slurm":
        params.update(slurm_array_parallelism=int(opts.get("array_parallelism", 64)), mem_gb=int(opts.get("mem_gb", 4)))
        if opts.get("partition"):
            params["slurm_partition"] = opts["partition"]
    ex.update_parameters(**params)
    chunks = [points[i:i + chunk] for i in range(0, len(points), chunk)]
    n = len(chunks)
    jobs = ex.map_array(check_points, [claim_id] * n, chunks, [budget] * n, [seed] * n,
                        [str(cache) if cache is not None else None] * n)
    out: list[dict] = []
    for job in jobs:
        out.extend(job.result())
    return out


# --------------------------------------------------------------------------- numbers for the figure
def relative_error(v: Mapping[str, Any] | None, kind: str) -> tuple[float, float]:
    """(relative error of the formula, its SE) at one point; nan where the kind has none.

    exact / bound: ``(mean - prediction) / |prediction|``; asymptotic: the discrepancy of the
    limit formula at the ladder's first size, ``D(n_0) / |limit|``; coverage: observed coverage
    minus 1 - delta; qualitative and GPU verdicts: nan.
    """
    from claimcheck.report import _num, _numbers

    if v is None:
        return math.nan, math.nan
    pred = _num(v.get("prediction"))
    est = v.get("estimate") or {}
    mean, se = _num(est.get("mean")), _num(est.get("se"))
    scale = abs(pred)
    if kind in ("exact", "bound"):
        return ((mean - pred) / scale, se / scale) if scale > 0 and math.isfinite(scale) else (math.nan, math.nan)
    if kind == "asymptotic":
        x = _numbers(v)
        d, dse = x.get("discrepancies"), x.get("discrepancy_se")
        if d and dse and scale > 0 and math.isfinite(scale):
            return _num(d[0]) / scale, _num(dse[0]) / scale
        return math.nan, math.nan
    if kind == "coverage":
        return mean - pred, se
    return math.nan, math.nan


def _values(result: Mapping[str, Any], color: str) -> tuple[np.ndarray, np.ndarray]:
    from claimcheck.report import _num, kind_of

    kind = result["claim"]["kind"]
    val, err = [], []
    for e in result["points"]:
        v = e["verdict"]
        if v is None:
            val.append(math.nan)
            err.append(math.nan)
        elif color == "z":
            val.append(_num(v.get("z")))
            err.append(math.nan)
        else:
            r, s = relative_error(v, kind_of(v, result["claim"]))
            val.append(r)
            err.append(s)
    return np.array(val, float), np.array(err, float)


def heatmap_name(claim_id: str, color: str) -> str:
    """File stem of a sweep's figure: ``sweep_<claim id, dots and brackets as underscores>_<color>``.

    >>> heatmap_name("ridgeless.minnorm_finite[no_bias_term]", "z")
    'sweep_ridgeless_minnorm_finite_no_bias_term_z'
    """
    return "sweep_" + re.sub(r"[^A-Za-z0-9_-]+", "_", claim_id).strip("_") + f"_{color}"


def _label(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def draw_heatmap(result: Mapping[str, Any], *, color: str = "z", venue: str = "neurips", size=None):
    """The sweep's heatmap as a matplotlib Figure (draw it inside ``style.rc`` for the venue).

    x: the first swept parameter, y: the second (a single row when only one is swept);
    further swept parameters give one panel per combination. Cell colour: z (diverging,
    centred on 0, clipped at 2x the critical value; infinite z drawn at the clip) or the
    relative error (diverging, symmetric). Marks: o passed, x failed, triangle underpowered,
    grey hatched cell where the claim is not defined. Small grids print the value (and, for
    the relative error, ±SE) in each cell.
    """
    from matplotlib.colors import Normalize, TwoSlopeNorm
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from claimcheck.paper_figures import style

    if color not in COLORS:
        raise ValueError(f"color={color!r}, must be one of {', '.join(COLORS)}")
    grid = {k: v for k, v in result["grid"].items()}
    axes_names = [k for k, v in grid.items() if len(v) > 1][:2] or list(grid)[:1]
    panel_names = [k for k, v in grid.items() if len(v) > 1 and k not in axes_names]
    combos = list(itertools.product(*(grid[k] for k in panel_names))) or [()]
    if len(combos) > MAX_PANELS:
        raise ValueError(f"the grid has {len(combos)} panels beyond its two axes, at most {MAX_PANELS} can be drawn")
    xs = grid[axes_names[0]]
    ys = grid[axes_names[1]] if len(axes_names) > 1 else [None]
    values, errs = _values(result, color)

    def key(p):
        return json.dumps(jsonable(p), sort_keys=True)

    index = {key(e["params"]): i for i, e in enumerate(result["points"])}
    ncols = min(len(combos), 4)
    nrows = math.ceil(len(combos) / ncols)
    if size is None:
        column = "half" if ncols == 1 and len(xs) <= 6 else "full"
        w, _ = style.figsize(venue, column=column)
        h = max(1.6, 0.32 * len(ys) * nrows + 1.1)
        size = (w, h)
    fig = Figure(figsize=size)
    finite = values[np.isfinite(values)]
    if color == "z":
        zcs = [_zc(e["verdict"]) for e in result["points"] if e["verdict"] is not None]
        zc = float(np.nanmax(zcs)) if zcs else 4.9
        lim = 2 * zc
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
        label = "z (clipped at ±2 critical)"
    else:
        lim = float(np.max(np.abs(finite))) if finite.size else 1.0
        lim = lim if lim > 0 else 1.0
        norm = Normalize(vmin=-lim, vmax=lim)
        label = "relative error" if result["claim"]["kind"] != "coverage" else "coverage − (1 − δ)"
    cmap = "RdBu_r"
    annotate = len(xs) * len(ys) <= 48
    im = None
    axs = []
    for k, combo in enumerate(combos):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        axs.append(ax)
        fixed = dict(zip(panel_names, combo))
        mat = np.full((len(ys), len(xs)), np.nan)
        for iy, yv in enumerate(ys):
            for ix, xv in enumerate(xs):
                q = {**fixed, axes_names[0]: xv}
                if len(axes_names) > 1:
                    q[axes_names[1]] = yv
                point = dict(result["points"][0]["params"])
                point.update(q)
                i = index.get(key(point))
                if i is None:
                    continue
                e = result["points"][i]
                val = values[i]
                mat[iy, ix] = np.clip(val, norm.vmin, norm.vmax) if not math.isnan(val) else np.nan
                if e["verdict"] is None:
                    ax.add_patch(_hatch(ix, iy))
                    continue
                status = e["verdict"]["status"]
                if status == "skipped":
                    ax.add_patch(_hatch(ix, iy))
                    continue
                _mark(ax, ix, iy, status)
                if annotate and math.isfinite(val) or (annotate and math.isinf(val)):
                    txt = _cell_text(val, errs[i], color)
                    ax.text(ix + 0.08, iy, txt, ha="center", va="center", fontsize="x-small",
                            color="white" if abs(np.clip(val, norm.vmin, norm.vmax)) > 0.6 * norm.vmax else "black")
        im = ax.imshow(mat, cmap=cmap, norm=norm, origin="lower", aspect="auto",
                       extent=(-0.5, len(xs) - 0.5, -0.5, len(ys) - 0.5))
        ax.set_xticks(range(len(xs)), [_label(v) for v in xs])
        ax.set_xlabel(axes_names[0])
        if len(axes_names) > 1:
            ax.set_yticks(range(len(ys)), [_label(v) for v in ys])
            ax.set_ylabel(axes_names[1])
        else:
            ax.set_yticks([])
        ax.tick_params(length=0)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        if fixed:
            ax.set_title(", ".join(f"{n}={_label(v)}" for n, v in fixed.items()), fontsize="small")
    cb = fig.colorbar(im, ax=axs, shrink=0.9, pad=0.02)
    cb.set_label(label)
    if color == "z":  # the check's critical values: |z| beyond them is a failed cell
        for level in (-zc, zc):
            cb.ax.axhline(level, color="k", linewidth=0.6)
    handles = [Line2D([], [], marker="o", color="k", markerfacecolor="none", linestyle="none", label="passed"),
               Line2D([], [], marker="x", color="k", linestyle="none", label="failed"),
               Line2D([], [], marker="^", color="k", markerfacecolor="none", linestyle="none", label="underpowered"),
               Patch(facecolor="0.85", hatch="////", edgecolor="0.5", label="not defined")]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize="x-small")
    fig.suptitle(f"{result['claim_id']} ({result['budget']}, seed {result['seed']})", fontsize="small")
    return fig


def _zc(v) -> float:
    from claimcheck.report import _num, _numbers

    x = _numbers(v or {})
    zc = _num(x.get("z_critical"))
    return zc if math.isfinite(zc) else 4.89


def _hatch(ix, iy):
    from matplotlib.patches import Rectangle

    return Rectangle((ix - 0.5, iy - 0.5), 1, 1, facecolor="0.85", hatch="////", edgecolor="0.5", linewidth=0)


def _mark(ax, ix, iy, status):
    style = {"passed": dict(marker="o", markerfacecolor="none"), "failed": dict(marker="x"),
             "underpowered": dict(marker="^", markerfacecolor="none")}[status]
    ax.plot([ix - 0.36], [iy + 0.28], color="k", markersize=3.2, markeredgewidth=0.7, linestyle="none", zorder=4,
            **style)


def _cell_text(val, err, color) -> str:
    if math.isinf(val):
        return "+∞" if val > 0 else "−∞"
    if color == "z":
        return f"{val:+.1f}".replace("-", "−")
    txt = f"{val:+.2g}".replace("-", "−")
    if math.isfinite(err):
        txt += f"\n±{err:.1g}"
    return txt


def save_heatmap(result: Mapping[str, Any], out_dir, *, color: str = "z", venue: str = "neurips",
                 size=None, rc: Mapping[str, Any] | None = None, name: str | None = None) -> list[Path]:
    """Write the heatmap as ``NAME.pdf`` + ``NAME.png`` in the paper style of ``venue``.

    ``rc`` overrides rcParams; figures for a venue other than the default go to
    ``out_dir/VENUE/`` (:func:`claimcheck.paper_figures.style.venue_dir`), never over the defaults.
    """
    import matplotlib

    from claimcheck.paper_figures import style

    params = {**style.rc(venue), **dict(rc or {})}
    with matplotlib.rc_context(params):
        fig = draw_heatmap(result, color=color, venue=venue, size=size)
        target = style.venue_dir(out_dir, venue, custom=size is not None or bool(rc))
        return style.save(fig, target, name or heatmap_name(result["claim_id"], color))


# --------------------------------------------------------------------------- command line
def add_parser(sub) -> argparse.ArgumentParser:
    """``claimcheck sweep`` (registered by :mod:`claimcheck.cli`)."""
    from claimcheck.budget import BUDGETS
    from claimcheck.cliargs import nonneg_int, positive_int

    s = sub.add_parser("sweep", help="check one claim over a grid of parameters (parallel, cached, heatmap)")
    s.add_argument("claim", metavar="CLAIM_ID")
    s.add_argument("--module", action="append", default=[], metavar="MODULE|FILE.py",
                   help="also load claims from a module or a .py file (checked in this process: worker processes "
                        "only know claimcheck's own catalogue)")
    s.add_argument("--grid", action="append", default=[], metavar="NAME=VALUES", required=True,
                   help="a swept parameter: a,b,c | START:STOP:STEP (inclusive) | log:START:STOP:COUNT; repeat for a "
                        "cartesian product")
    s.add_argument("--budget", choices=list(BUDGETS), default="quick", help="simulation budget (default: quick)")
    s.add_argument("--seed", type=nonneg_int, default=0)
    s.add_argument("--jobs", type=positive_int, default=None, help="worker processes (default: all cores)")
    s.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"per-point result cache (default: {DEFAULT_CACHE})")
    s.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    s.add_argument("--json", type=Path, metavar="PATH", help="write the sweep as JSON (atomically)")
    s.add_argument("--figures", type=Path, default=Path("figures"), metavar="DIR",
                   help="where the heatmap goes (default: figures)")
    s.add_argument("--no-figure", action="store_true", help="do not draw the heatmap")
    s.add_argument("--color", choices=COLORS, default="z", help="heatmap colour: z or the formula's relative error")
    s.add_argument("--venue", default="neurips", help="figure widths and fonts: neurips, icml or iclr")
    s.add_argument("--size", metavar="W,H", help="figure size in inches (default: from the venue)")
    s.add_argument("--rc", action="append", default=[], metavar="KEY=VALUE", help="matplotlib rcParams override")
    g = s.add_argument_group("SLURM (submitit; needs the gpu extra)")
    g.add_argument("--slurm", action="store_true", help="check the uncached points as one SLURM job array")
    g.add_argument("--partition", help="SLURM partition")
    g.add_argument("--timeout-min", type=positive_int, default=60, help="time limit per array task (minutes)")
    g.add_argument("--array-parallelism", type=positive_int, default=64, help="array tasks running at once")
    g.add_argument("--chunk", type=positive_int, default=1, help="grid points per array task")
    g.add_argument("--executor", choices=("slurm", "local", "debug"), default="slurm", help=argparse.SUPPRESS)
    return s


def run_cli(args) -> int:
    from claimcheck.paper_figures import style
    from claimcheck.registry import get_claim
    from claimcheck.report import claim_meta, verify_table

    claim = get_claim(args.claim)
    grid = parse_grid(claim, args.grid)
    size, rc = style.parse_size(args.size), style.parse_rc(args.rc)
    if not args.no_figure:
        style.check_venue(args.venue)
    slurm = None
    if args.slurm:
        slurm = {"executor": args.executor, "partition": args.partition, "timeout_min": args.timeout_min,
                 "array_parallelism": args.array_parallelism, "chunk": args.chunk}
    result = sweep(claim, grid, budget=args.budget, seed=args.seed, jobs=args.jobs,
                   cache=None if args.no_cache else args.cache, slurm=slurm, progress=True)
    rows = [e["verdict"] for e in result["points"] if e["verdict"] is not None]
    print(verify_table(rows, {claim.id: claim_meta(claim)}))
    for e in result["points"]:
        if e["verdict"] is None:
            print(f"not defined at {e['params']}: {e['error']}")
    s = result["summary"]
    skipped = f", {s['skipped']} SKIPPED (missing optional data or dependency)" if s["skipped"] else ""
    print(f"\n{s['points']} points ({s['computed']} computed, {s['cached']} from the cache): {s['passed']} passed, "
          f"{s['failed']} failed, {s['underpowered']} underpowered, {s['invalid']} not defined{skipped} "
          f"in {result['elapsed_s']:.1f} s (budget {result['budget']}, seed {result['seed']})")
    if not args.no_figure:
        paths = save_heatmap(result, args.figures, color=args.color, venue=args.venue, size=size, rc=rc)
        result["figures"] = [str(p) for p in paths]
        for p in paths:
            print(p)
    if args.json:
        atomic_write_json(args.json, result)
        print(f"report: {args.json}")
    if s["failed"]:
        return 1
    if s["underpowered"] or s["skipped"]:
        return 3
    return 0
