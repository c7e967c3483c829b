"""The README's "Evidence" table, generated from the committed evidence runs (torch-free).

Every job of the GPU suite has one row, filled from ``gpu_validation/evidence/<job>/result.json``
(the driver's result of the committed run, usually the ``cpu`` profile); a job without that file
shows "not run". Columns: job, scale (the key config fields), time (wall and process CPU seconds,
as the driver measured them), machine, verdict, the key numbers of the run and the papers'
numbers for the same phenomenon.

The verdict is re-decided through ``claimcheck.gpu_validation.rules.decide`` when that function
exists (so the committed verdicts follow the final decision rules without retraining); otherwise
the verdict stored in the result file is shown.

    python -m claimcheck.gpu_validation.evidence_table            # print the table
    python -m claimcheck.gpu_validation.evidence_table --write    # also re-decide into the result.json
                                                                  # files and rewrite README.md between
                                                                  # the evidence-table markers
"""
from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from claimcheck.gpu_validation import JOBS

__all__ = ["EVIDENCE", "START", "END", "load", "decide", "row", "table", "readme_block", "write_readme", "main"]

EVIDENCE = Path(__file__).resolve().parent / "evidence"
README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- evidence-table:start -->", "<!-- evidence-table:end -->"


# --------------------------------------------------------------------------- small helpers

def _mean(xs) -> float:
    xs = [float(x) for x in xs]
    return sum(xs) / len(xs)


def _sd(xs) -> float:
    xs = [float(x) for x in xs]
    if len(xs) < 2:
        return float("nan")
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _cols(a):   # (seeds, k) nested list -> list of columns
    return [list(c) for c in zip(*a)]


def _f(x, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _ms(xs, digits: int = 3) -> str:
    """mean (SD over seeds); the mean alone for one seed."""
    if len(xs) < 2:
        return _f(_mean(xs), digits)
    return f"{_f(_mean(xs), digits)} (SD {_f(_sd(xs), digits)})"


# --------------------------------------------------------------------------- key numbers per job

def _real_vs_ideal(m: dict, cfg: dict) -> str:
    real, ideal = m["soft_error_real"], m["soft_error_ideal"]
    steps, window = m["eval_steps"], m["window"]
    gaps = [[r - i for r, i in zip(rr, ii)] for rr, ii in zip(real, ideal)]          # (seeds, evals)
    mean_gap = [abs(_mean(c)) for c in _cols(gaps)]
    inside = [j for j, w in enumerate(window) if w]
    parts = []
    if inside:
        last = inside[-1]
        per_seed = [max(abs(g[j]) for j in inside) for g in gaps]
        tt = [te[last] - tr[last] for te, tr in zip(m["test_error_real"], m["train_error_real"])]
        parts.append(f"max |soft-error gap| while Real train error >= {cfg.get('train_error_floor', 0.01):g}: "
                     f"{_f(max(mean_gap[j] for j in inside))} (per-seed max {_ms(per_seed)}), window up to step {steps[last]}")
        parts.append(f"Real train/test gap there {_ms(tt, 2)}")
    else:
        parts.append("Real train error never >= the floor: empty window")
    if len(inside) < len(steps):
        first = next(j for j, w in enumerate(window) if not w)
        parts.append(f"Real train error < {cfg.get('train_error_floor', 0.01):g} from step {steps[first]}")
    parts.append(f"at step {steps[-1]}: soft gap {_f(mean_gap[-1])}, test error Real "
                 f"{_f(_mean([t[-1] for t in m['test_error_real']]))} vs Ideal {_f(_mean([t[-1] for t in m['test_error_ideal']]))}")
    return "; ".join(parts)


def _hypersphere(m: dict, cfg: dict) -> str:
    te, sp = _cols(m["test_error"]), _cols(m["s_prime_error"])
    conv = all(all(r) for r in m.get("converged", [[True]]))
    per_n = ", ".join(f"{n}: {_f(_mean(t))} / {_f(_mean(s))}" for n, t, s in zip(m["n"], te, sp))
    return (f"test / S' error by n (seed means) {per_n}; S' - test at n = {m['n'][-1]}: "
            f"{_ms([s - t for s, t in zip(sp[-1], te[-1])])}; "
            + ("every network reached the margin rule" if conv else "**some networks missed the margin rule**"))


def _pac_bayes_mnist(m: dict, cfg: dict) -> str:
    best = min(m["candidates"], key=lambda c: c["bound"])
    out = (f"certificate {_f(best['bound'])} (KL {best['kl']:.2f} nats, MC risk {_f(best['emp_risk_mc'])} -> "
           f"upper {_f(best['emp_risk_upper'])}, {cfg.get('mc_samples')} draws, n = {cfg.get('n_bound')}); "
           f"held-out error of Q {_f(best['eval_error_Q'])}")
    if "prior_only_bound" in m:
        diff = m["bound"] - m["prior_only_bound"]
        beat = "below" if diff < 0 else "**not below**"
        out += (f"; baselines: Q = P trained prior {_f(m['prior_only_bound'])} (the posterior is {beat} it: "
                f"{diff:+.4f}), Q = P untrained {_f(m['untrained_prior_bound'])}")
    return out


def _feature_calibration(m: dict, cfg: dict) -> str:
    rate = _cols(m["rate"])                                   # per class: seeds
    p = m["p_c"]
    tol = cfg.get("interpolation_tol", 0.0)
    fit = max(m["train_error"]) <= tol
    return (f"calibration slope {_ms(m['slope'], 2)} (per seed {', '.join(_f(s, 2) for s in m['slope'])}; "
            f"1 = calibrated, 0 = Bayes); test predicted-1 rate at p_c = {_f(p[1], 3)} / {_f(p[-1], 2)}: "
            f"{_f(_mean(rate[1]))} / {_f(_mean(rate[-1]))}; train error max {_f(max(m['train_error']), 4)} "
            + ("(interpolates)" if fit else f"**above the tolerance {tol:g}**"))


def _norm_growth(m: dict, cfg: dict) -> str:
    import numpy as np

    ns = m["ns"]
    lx = np.log(np.asarray(ns, float)) - np.log(np.asarray(ns, float)).mean()

    def slopes(key):
        ly = np.log(np.maximum(np.asarray(m[key], float), 0.5 / cfg.get("n_test", 1)))
        return ((ly - ly.mean(1, keepdims=True)) @ lx / (lx @ lx)).tolist()

    d, e = _cols(m["distance_from_init"]), _cols(m["test_error"])
    missed = m.get("missed_margin", [])
    return (f"||W - W0||_F {_f(_mean(d[0]), 2)} -> {_f(_mean(d[-1]), 2)} and test error {_f(_mean(e[0]))} -> "
            f"{_f(_mean(e[-1]))} for n = {ns[0]} -> {ns[-1]}; log-log slopes: distance {_ms(slopes('distance_from_init'))}, "
            f"test error {_ms(slopes('test_error'), 2)}; epochs to margin {cfg.get('margin', 0):g} "
            f"{_f(_mean(_cols(m['epochs'])[0]), 0)} -> {_f(_mean(_cols(m['epochs'])[-1]), 0)}; "
            + ("every network reached the margin rule" if not missed else f"**{len(missed)} networks missed the margin**"))


def _bumps(curve) -> list[float]:
    """Interior bump heights min(e_i - min_{j<i} e_j, e_i - min_{j>i} e_j), i = 1..m-2."""
    e = [float(v) for v in curve]
    if len(e) < 3:
        raise ValueError(f"curve has {len(e)} points, must have >= 3 to have an interior peak")
    return [min(e[i] - min(e[:i]), e[i] - min(e[i + 1:])) for i in range(1, len(e) - 1)]


def peak_index(curve) -> int:
    """Index of the highest interior bump of a (seed-mean) curve: the peak :func:`prominence` measures.

    >>> peak_index([0.5, 0.4, 0.6, 0.3])
    2
    """
    b = _bumps(curve)
    return 1 + max(range(len(b)), key=b.__getitem__)


def prominence(curve) -> float:
    """Height of the highest interior bump above the best earlier and the best later point (<= 0 for
    a monotone curve): a descriptive summary of a double-descent curve, not part of its verdict.

    >>> round(prominence([0.5, 0.4, 0.6, 0.3]), 12), prominence([0.5, 0.4, 0.3]) <= 0
    (0.2, True)
    """
    return max(_bumps(curve))


def interpolation_threshold(xs, train_error, tol: float = 0.01):
    """Smallest sweep value whose seed-mean training error is <= ``tol`` (None if none):
    Nakkiran et al.'s interpolation threshold. ``train_error``: one row per seed.

    >>> interpolation_threshold([1, 2, 4], [[0.3, 0.005, 0.0]])
    2
    """
    return next((x for x, col in zip(xs, zip(*train_error)) if _mean(col) <= tol), None)


def _deep_double_descent(m: dict, cfg: dict) -> str:
    xs, noise, name = m["x"], m["label_noise"], m["x_name"]
    te, tr = m["test_error"], m["train_error"]                # (seeds, noise, x)
    parts = []
    for i, p in enumerate(noise):
        e = [_mean([s[i][j] for s in te]) for j in range(len(xs))]
        thr = interpolation_threshold(xs, [s[i] for s in tr])
        pk = peak_index(e)
        lo = min(range(pk), key=lambda j: e[j])
        parts.append(f"noise {p:.0%}: test error {_f(e[lo])} @ {name}={xs[lo]} -> {_f(e[pk])} @ {xs[pk]} -> "
                     f"{_f(e[-1])} @ {xs[-1]} (prominence {_f(prominence(e))}), train error <= 1% from {name}={thr}")
    return "; ".join(parts) + f" ({len(te)} seeds, seed means)"


def _generic(m: dict, cfg: dict) -> str:
    return ""


@dataclass(frozen=True)
class Spec:
    """How one job's row is filled: the config fields that give its scale, its key numbers
    (a function of the measurements and the config) and the papers' numbers."""
    scale: tuple[str, ...]
    key: Callable[[dict, dict], str] = _generic
    paper: str = ""


SPECS: dict[str, Spec] = {
    "real_vs_ideal": Spec(
        ("source", "model", "hidden", "n_real", "steps", "batch_size", "lr", "n_seeds"), _real_vs_ideal,
        "Nakkiran, Neyshabur & Sedghi 2021 (Fig. 1, CIFAR-5m, n = 50k, ResNet-18 and others): Real and Ideal "
        "test soft-errors within a few % until the Real World's train error nears 0"),
    "hypersphere": Spec(
        ("d", "width", "r_outer", "margin", "lr", "batch_size", "ns", "loss", "init", "n_seeds"), _hypersphere,
        "Nagarajan & Kolter 2019 (Fig. 2 left; d = 1000, radii 1 / 1.1, width 100k, margin 10 on 99%): "
        "error on S' = 1 (0% accuracy) at every n while the test error falls with n"),
    "pac_bayes_mnist": Spec(
        ("hidden", "n_prior", "n_bound", "n_eval", "prior_epochs", "posterior_epochs", "prior_sigmas", "mc_samples"),
        _pac_bayes_mnist,
        "seed 003 anchor: compression bound 11.6% on MNIST (Lotfi et al. 2022, n = 60k; a different bound); "
        "Dziugaite & Roy 2017: 0.161 (binary MNIST, 600-unit net, n = 55k); PBB (Perez-Ortiz et al. 2021) "
        "certificates on full MNIST are far tighter than at n = 4k"),
    "feature_calibration": Spec(
        ("dataset", "model", "width", "n_train", "epochs", "n_seeds"), _feature_calibration,
        'Nakkiran & Bansal 2020 (Sec. 1, Experiment 1): a WideResNet trained to 0 train error on binary CIFAR-10 (50k) with 30% of the cats flipped mislabels roughly 30% of the test cats; the test predicted-1 rate of class c tracks its noise rate p_c (slope ~1)'),
    "norm_growth": Spec(
        ("dataset", "ns", "width", "depth", "margin", "miss_fraction", "n_seeds"), _norm_growth,
        'Nagarajan & Kolter 2019 (Fig. 1, MNIST; their README: 5 hidden layers of 1024, SGD lr 0.1, batch 64, margin 10 on 99% of S): the test error falls with n while ||W - W0||_F (and the bounds built on it) grows with n'),
    "deep_double_descent": Spec(
        ("dataset", "model", "widths", "label_noise", "n_train", "epochs", "n_seeds"), _deep_double_descent,
        'Nakkiran et al. 2020 (Fig. 1: ResNet-18 k = 1..64 on CIFAR-10, 15% label noise, Adam 1e-4, 4k epochs): test error peaks near the interpolation threshold (train error ~0), then falls with k; the peak shrinks with less noise. Belkin et al. 2019: a peak in two-layer nets on MNIST too (squared loss, weight reuse)'),
}


# --------------------------------------------------------------------------- loading and deciding

def load(root: "str | os.PathLike" = EVIDENCE) -> dict[str, dict]:
    """job -> its committed result dict (only jobs with ``<root>/<job>/result.json``)."""
    out = {}
    for job in JOBS:
        p = Path(root) / job / "result.json"
        if p.is_file():
            out[job] = json.loads(p.read_text())
    return out


def _rules_decide():
    try:
        from claimcheck.gpu_validation import rules
    except ImportError:
        return None
    return getattr(rules, "decide", None)


def decide(job: str, result: dict) -> tuple[dict, str]:
    """The verdict dict of ``result`` and where it came from: ``"rules"`` (re-decided now through
    ``rules.decide``) or ``"stored"`` (the verdict the run wrote)."""
    fn = _rules_decide()
    if fn is None:
        return result["verdict"], "stored"
    v = fn(job, result["config"], result["measurements"], seed=result["seed"], profile=result["profile"])
    return json.loads(json.dumps(v.to_dict(), allow_nan=True, default=_plain)), "rules"


def _plain(o):
    """numpy scalars / arrays (and anything else) as plain JSON values."""
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


# --------------------------------------------------------------------------- the table

def _scale(spec: Spec, cfg: dict, profile: str) -> str:
    def show(v):
        if isinstance(v, (list, tuple)):
            return "(" + ", ".join(show(x) for x in v) + ")" if len(v) <= 6 else f"({show(v[0])}, ..., {show(v[-1])}; {len(v)})"
        return f"{v:g}" if isinstance(v, float) else str(v)

    fields = [f"{k} {show(cfg[k])}" for k in spec.scale if k in cfg]
    return f"`{profile}`: " + ", ".join(fields)


def _machine(res: dict) -> str:
    d, t = res.get("device") or {}, res.get("timings") or {}
    if d.get("type") == "cuda":
        return f"GPU {d.get('name', '')}"
    s = f"CPU {d.get('name', '')}, {d.get('threads', '?')} torch thread(s), {d.get('cpu_count', '?')} cores"
    if t.get("load_avg_1min") is not None:
        s += f" (shared: load {t['load_avg_1min']:.1f} at the end)"
    return s


def _time(res: dict) -> str:
    t = res.get("timings") or {}
    s = f"wall {t['wall_s']:.0f} s"
    if t.get("cpu_s") is not None:
        s += f", CPU {t['cpu_s']:.0f} s"
    return s


def row(job: str, result: dict | None) -> list[str]:
    """The table row of ``job`` (cells as Markdown)."""
    spec = SPECS.get(job, Spec(()))
    if result is None:
        return [f"`{job}`", "not run", "-", "-", "not run", "-", spec.paper or "-"]
    v, source = decide(job, result)
    status = v.get("status", "?")
    why = v.get("summary") or v.get("detail") or ""
    verdict = f"**{status}**" + ("" if source == "rules" else " (stored)")
    if status != "passed" and why:
        verdict += f": {why}"
    key = spec.key(result["measurements"], result["config"] or {}) or (v.get("detail") or "")
    cells = [f"`{job}`", _scale(spec, result["config"] or {}, result["profile"]), _time(result), _machine(result),
             verdict, key, spec.paper or "-"]
    return [c.replace("\n", " ").replace("|", "\\|") for c in cells]


HEADER = ["job", "scale", "time", "machine", "verdict", "key numbers (this run)", "papers' numbers"]


def table(results: dict[str, dict] | None = None) -> str:
    """The Markdown table: one row per job of the suite, in the order of ``gpu_validation.JOBS``."""
    results = load() if results is None else results
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for job in JOBS:
        lines.append("| " + " | ".join(row(job, results.get(job))) + " |")
    return "\n".join(lines)


def readme_block(results: dict[str, dict] | None = None) -> str:
    """What goes between the markers (the markers included)."""
    return f"{START}\n{table(results)}\n{END}"


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_readme(readme: "str | os.PathLike" = README, results: dict[str, dict] | None = None) -> bool:
    """Replace the block between the markers of ``readme``; True if the file changed. ValueError
    if the markers are missing."""
    path = Path(readme)
    text = path.read_text()
    if START not in text or END not in text:
        raise ValueError(f"readme={str(path)!r} has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = head + readme_block(results) + tail
    if new != text:
        _atomic_write(path, new)
    return new != text


def redecide_files(root: "str | os.PathLike" = EVIDENCE) -> list[str]:
    """Re-decide every committed result through ``rules.decide`` and store the verdict in its
    result.json (no-op without ``rules.decide``); returns the jobs whose verdict changed."""
    if _rules_decide() is None:
        return []
    changed = []
    for job, res in load(root).items():
        v, _ = decide(job, res)
        if v != res.get("verdict"):
            res["verdict"] = v
            _atomic_write(Path(root) / job / "result.json", json.dumps(res, indent=2) + "\n")
            changed.append(job)
    return changed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m claimcheck.gpu_validation.evidence_table",
                                description="The README's Evidence table from gpu_validation/evidence/*/result.json.")
    p.add_argument("--write", action="store_true",
                   help="re-decide into the result.json files (when rules.decide exists) and rewrite README.md")
    p.add_argument("--readme", default=str(README), help="README to rewrite (default: the repository's)")
    a = p.parse_args(argv)
    if a.write:
        changed = redecide_files()
        if changed:
            print(f"verdicts re-decided: {', '.join(changed)}")
        print(f"{a.readme}: {'updated' if write_readme(a.readme) else 'unchanged'}")
    else:
        print(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
