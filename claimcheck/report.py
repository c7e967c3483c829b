"""Reports for a paper's supplement: Markdown, a booktabs LaTeX table, one self-contained HTML page.

A report is read from the JSON that ``claimcheck verify --json`` writes, or from the
``result.json`` of a GPU job (``runs/JOB-PROFILE-seedS/result.json``), or several of them at
once. Per claim it shows the statement (rendered), the source, the parameters of every
checked point, the verdict with the statistic that fits the claim's kind, the power, the
mutants the check rejected, the claim's figure and the environment the numbers came from
(package versions, git revision with a dirty flag, machine, seed, budget, time).

The per-kind formatting lives here, in one function per kind (:func:`statistic` dispatches
on the kind); the verify table of the command line uses the same functions.

* ``exact``: prediction vs estimate ± SE, z against the critical value;
* ``bound``: mean ± SE below the bound, the margin, the one-sided z;
* ``coverage``: the observed coverage, its 95% lower confidence bound vs 1 - delta, and the
  exact (1 - alpha) upper bound that decides a failure;
* ``asymptotic``: the extrapolated limit ± SE, the observed rate n^-a, the fit's p-value;
* ``qualitative``: the number of steps (or tests) and the worst step's z; deterministic
  checks (z = 0 or infinite) show what they verified;
* the other kinds of :mod:`claimcheck.checks` (read from ``Verdict.statistic``): ``monotone``
  (steps, the weakest step's z), ``band`` (points in the band, z to its edge), ``ci_threshold``
  (mean and t-interval over seeds vs the threshold), ``two_sample`` (max ``|z|`` of the difference),
  ``deterministic`` (worst violation in tolerance units); a rule made of parts (``a+b``) shows
  each part's; a kind this module does not know shows the check's own summary line;
* GPU job results of older versions (kind ``gpu``): the statistic with its bootstrap CI over
  seeds vs the threshold.

Claims decided on *measured* results (``evidence="measurement"``, e.g. the GPU jobs' ``gpu.*``
claims) need nothing special: their verdicts carry the kind of their check, a SKIPPED verdict
(the result file is absent) is shown as not run, and the report says which machine the
environment describes (:func:`evidence_text`).

Example::

    claimcheck verify --json reports/verify.json --mutants
    claimcheck figures --out figures
    claimcheck report reports/verify.json --format html --out reports/claims.html --figures figures

The HTML page needs no network: figures are embedded as ``data:`` URIs, the statements are
MathML (converted with ``latex2mathml``; browsers render MathML natively), the styles are
inline and a Content-Security-Policy forbids every external load.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import os
import re
import textwrap
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from claimcheck.io import atomic_write_text, jsonable

__all__ = [
    "FORMATS",
    "claim_meta",
    "evidence_text",
    "load",
    "kind_of",
    "statistic",
    "decision_rule",
    "power",
    "verify_table",
    "mutant_table",
    "fmt_params",
    "latex_to_mathml",
    "to_markdown",
    "to_tex",
    "to_html",
    "write",
]

FORMATS = ("md", "tex", "html")
TABLE_WIDTH = 100
"""Columns of the verify table (a 100-column terminal)."""


# --------------------------------------------------------------------------- numbers
def _num(x: Any) -> float:
    """A float from a report value (JSON writes inf/nan as strings); nan when absent."""
    if x is None:
        return math.nan
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return math.nan
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _g(x: Any, digits: int = 4) -> str:
    """``x`` with ``digits`` significant digits; "∞", "−∞", "n/a" for the special values."""
    v = _num(x)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.{digits}g}"


def _signed(x: Any, digits: int = 2) -> str:
    v = _num(x)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "+∞" if v > 0 else "−∞"
    return f"{v:+.{digits}f}"


def _pct(x: Any) -> str:
    v = _num(x)
    return "n/a" if math.isnan(v) else f"{v:.0%}"


def fmt_value(v: Any) -> str:
    """One parameter value: floats in ``%g``, lists and tuples in parentheses."""
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "(" + ",".join(fmt_value(x) for x in v) + ")"
    return str(v)


def fmt_params(params: Mapping[str, Any]) -> str:
    """``n=100 p=50 signal=1`` (floats in ``%g``, lists in parentheses)."""
    return " ".join(f"{k}={fmt_value(v)}" for k, v in params.items())


# --------------------------------------------------------------------------- claims
def claim_meta(claim) -> dict[str, Any]:
    """What a report shows about a claim: title, statement, source, kind, decision rule's rel_tol
    and alpha, evidence, declared domain, figure, mutants."""
    return jsonable({
        "title": claim.title,
        "statement": claim.statement,
        "source": claim.source,
        "kind": claim.kind,
        "figure": claim.figure,
        "rel_tol": getattr(claim.rule, "rel_tol", None),   # AllOf: none (each part has its own)
        "alpha": claim.alpha,
        "evidence": claim.evidence,
        "domain": claim.param_spec.describe() if claim.param_spec is not None else None,
        "notes": getattr(claim, "notes", ""),
        "mutants": [{"name": m.name, "description": m.description} for m in claim.mutants],
    })


def _registry_meta(claim_id: str) -> dict[str, Any] | None:
    from claimcheck.registry import get_claim

    try:
        return claim_meta(get_claim(claim_id))
    except ValueError:
        return None


def _job_summary(job: str) -> str:
    """First line of a GPU job module's docstring, read from its source (no torch import)."""
    import ast
    import importlib.util

    try:
        from claimcheck.gpu_validation import JOBS

        spec = importlib.util.find_spec(JOBS[job])
        doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or ""
    except Exception:  # noqa: BLE001 -- unknown job or an installation without the sources
        return ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _gpu_meta(result: Mapping[str, Any]) -> dict[str, Any]:
    """What a report shows about a GPU job's claim when it is not registered here: the job's
    summary line, the kind of its verdict (the check's; ``gpu`` for older results)."""
    job = str(result.get("job", "?"))
    summary = _job_summary(job)
    return {
        "title": summary or f"GPU validation job {job}",
        "statement": None,
        "source": f"claimcheck.gpu_validation ({job}, profile {result.get('profile', '?')})",
        "kind": (result.get("verdict") or {}).get("kind") or "gpu",
        "figure": None,
        "rel_tol": None,
        "alpha": None,
        "evidence": "measurement",
        "notes": "",
        "mutants": [],
    }


# --------------------------------------------------------------------------- loading
def load(paths: "str | os.PathLike | Sequence[str | os.PathLike]") -> dict[str, Any]:
    """Read verify reports and/or GPU ``result.json`` files into one normalized report.

    Returns ``{"sources": [...], "claims": {id: meta}, "verdicts": [...], "mutants": [...]}``;
    every verdict carries ``"source"`` (its index in ``sources``) and every source its
    environment, budget, seed and time. A file that is neither kind is a ValueError naming it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise ValueError("paths is empty, must name at least one report JSON")
    out: dict[str, Any] = {"sources": [], "claims": {}, "verdicts": [], "mutants": []}
    for p in paths:
        path = Path(p)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"report {str(path)!r} does not exist") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"report {str(path)!r} is not readable JSON: {exc}") from None
        if isinstance(data, dict) and isinstance(data.get("verdicts"), list):
            _add_verify(out, data, path)
        elif isinstance(data, dict) and "job" in data and "verdict" in data:
            _add_gpu(out, data, path)
        else:
            raise ValueError(f"report {str(path)!r} is neither a 'claimcheck verify --json' report "
                             "nor a GPU job's result.json")
    return out


def _add_verify(out: dict, data: dict, path: Path) -> None:
    env = data.get("environment") or {}
    git = env.get("git") or {"revision": data.get("git_revision"), "dirty": data.get("git_dirty")}
    versions = env.get("versions") or {k: data[k] for k in ("numpy",) if k in data}
    versions = {"claimcheck": data.get("claimcheck"), **versions}
    source = {
        "path": str(path), "type": "verify", "created": data.get("created"), "budget": data.get("budget"),
        "seed": data.get("seed"), "elapsed_s": data.get("elapsed_s"), "python": env.get("python", data.get("python")),
        "versions": versions, "git": git, "machine": env.get("machine"), "summary": data.get("summary"),
    }
    index = len(out["sources"])
    out["sources"].append(source)
    metas = data.get("claims") or {}
    for v in data["verdicts"]:
        cid = v.get("claim_id", "?")
        if cid not in out["claims"]:
            out["claims"][cid] = metas.get(cid) or _registry_meta(cid) or _unknown_meta(cid, v)
        out["verdicts"].append({**v, "source": index})
    for m in data.get("mutants") or []:
        out["mutants"].append({**m, "source": index})


def _unknown_meta(cid: str, v: Mapping[str, Any]) -> dict[str, Any]:
    return {"title": cid, "statement": None, "source": "(not in this installation's registry)",
            "kind": v.get("kind"), "figure": None, "rel_tol": None, "alpha": None,
            "evidence": "measurement" if cid.startswith("gpu.") else None, "notes": "", "mutants": []}


def evidence_text(meta: Mapping[str, Any], verdicts: Sequence[Mapping[str, Any]], report: Mapping[str, Any]) -> str | None:
    """For a claim decided on measured results (``evidence="measurement"``, e.g. ``gpu.*``): where
    its numbers come from and which machine the environment describes; None for simulated claims."""
    if meta.get("evidence") != "measurement":
        return None
    types = {report["sources"][v["source"]].get("type") for v in verdicts if "source" in v}
    if types == {"gpu"}:
        return "measured results: the job's own result.json (the environment is the machine that ran it)"
    return ("measured results, re-decided by claimcheck verify from the result file in the parameters; the "
            "environment is the machine that re-decided them (the measuring run's machine, device and timings "
            "are in that result.json, which claimcheck report also reads); SKIPPED where the file is absent")


def _add_gpu(out: dict, data: dict, path: Path) -> None:
    device = data.get("device") or {}
    timings = data.get("timings") or {}
    rev = data.get("git_revision")
    git = {"revision": rev.replace("+dirty", "") if isinstance(rev, str) else rev,
           "dirty": (rev.endswith("+dirty") if isinstance(rev, str) else None)}
    source = {
        "path": str(path), "type": "gpu", "created": data.get("created"), "budget": data.get("profile"),
        "seed": data.get("seed"), "elapsed_s": timings.get("wall_s"), "python": data.get("python"),
        "versions": {"torch": data.get("torch")}, "git": git,
        "machine": {"device": device.get("type"), "name": device.get("name"), "memory_gib": device.get("memory_gib"),
                    "cuda": device.get("cuda")},
        "summary": None, "job": data.get("job"), "config": data.get("config"), "timings": timings,
        "figures": data.get("figures") or [],
    }
    index = len(out["sources"])
    out["sources"].append(source)
    v = data.get("verdict")
    if v is None:  # a partial (sharded) run: nothing to report yet
        raise ValueError(f"report {str(path)!r} is a partial GPU run without a verdict (collect the shards first)")
    cid = v.get("claim_id", f"gpu.{data.get('job')}")
    if cid not in out["claims"]:   # a registered claim (gpu.* claims on measured results) shows its statement
        out["claims"][cid] = _registry_meta(cid) or _gpu_meta(data)
    out["verdicts"].append({**v, "kind": v.get("kind") or "gpu", "source": index})


# --------------------------------------------------------------------------- per-kind statistics
def kind_of(v: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> str:
    """The verdict's kind: its own ``kind`` field, else the claim's, else ``gpu`` for ``gpu.*`` ids."""
    kind = v.get("kind") or (meta or {}).get("kind")
    if not kind and str(v.get("claim_id", "")).startswith("gpu."):
        kind = "gpu"
    return kind or "exact"


def _est(v):
    e = v.get("estimate") or {}
    return _num(e.get("mean")), _num(e.get("se")), e.get("n")


def _numbers(v) -> dict:
    """The verdict's kind-specific numbers: ``statistic`` (the check library's), over ``extra``."""
    return {**(v.get("extra") or {}), **(v.get("statistic") or {})}


def _seq(x) -> list[float]:
    return [_num(t) for t in x] if isinstance(x, (list, tuple)) else []


def _stat_exact(v) -> str:
    x = _numbers(v)
    zs = _seq(x.get("z"))
    if isinstance(x.get("x"), list) and len(zs) > 1:   # a curve of exact points (Holm over the points)
        k = max(range(len(zs)), key=lambda i: abs(zs[i]) if math.isfinite(zs[i]) else math.inf)
        return f"{len(zs)} points, max |z| {abs(zs[k]):.2f} at x={fmt_value(x['x'][k])}"
    mean, se, _ = _est(v)
    return f"{_g(v.get('prediction'), 5)} vs {_g(mean, 5)} ± {_g(se, 2)}, z {_signed(v.get('z'))}"


def _stat_bound(v) -> str:
    mean, se, _ = _est(v)
    margin = _numbers(v).get("margin", _num(v.get("prediction")) - mean)
    return f"{_g(mean, 5)} ± {_g(se, 2)} ≤ bound {_g(v.get('prediction'), 5)}, margin {_g(margin, 3)}, z {_signed(v.get('z'))}"


def _stat_coverage(v) -> str:
    rate, _, n = _est(v)
    x = _numbers(v)
    return (f"coverage {_g(rate, 4)} (n = {n}), 95% lower bound {_g(x.get('ci95_low'), 4)} "
            f"vs 1−δ = {_g(v.get('prediction'), 4)}")


def _stat_asymptotic(v) -> str:
    mean, se, _ = _est(v)
    x = _numbers(v)
    text = f"limit {_g(v.get('prediction'), 5)} vs extrapolated {_g(mean, 5)} ± {_g(se, 2)}, z {_signed(v.get('z'))}"
    a = _num(x.get("observed_rate"))
    if math.isfinite(a):  # the discrepancy shrinks like n^-a (a < 0: it grows)
        text += f"; rate n^{'−' if a >= 0 else '+'}{_g(abs(a), 3)} ± {_g(x.get('observed_rate_se'), 2)}"
    return text


def _stat_qualitative(v) -> str:
    x = _numbers(v)
    z = _num(v.get("z"))
    for key, word in (("step_z", "steps"), ("steps", "steps"), ("tests", "tests"), ("ns", "sizes"), ("n", "sizes")):
        seq = x.get(key)
        if isinstance(seq, list) and len(seq) > 1:
            count = len(seq) - 1 if key in ("ns", "n") else len(seq)
            if key in ("ns", "n"):
                word = "steps"
            if math.isfinite(z) and z != 0:
                return f"{count} {word}, worst z {_signed(z)}"
            return f"{count} {word}: " + _short_detail(v)
    if math.isfinite(z) and z != 0:
        return f"worst z {_signed(z)}"
    return "deterministic: " + _short_detail(v)


def _stat_monotone(v) -> str:
    x = _numbers(v)
    z = _seq(x.get("step_z"))          # positive = the claimed direction
    if not z:
        return _stat_qualitative(v)
    word = "down" if _num(x.get("direction")) < 0 else "up"
    return f"{len(z)} steps {word}, weakest step z {min(z):+.2f}, {int(sum(map(bool, x.get('against') or [])))} against"


def _stat_band(v) -> str:
    x = _numbers(v)
    lo, hi = _seq(x.get("low")), _seq(x.get("high"))
    if not lo or not hi:
        return _stat_qualitative(v)
    zmin = [min(a, b) for a, b in zip(_seq(x.get("z_low")), _seq(x.get("z_high")))]
    edge = (f"min z to the edge {min(zmin):.1f}" if x.get("every", True) else f"max z inside {max(zmin):.1f}") if zmin else ""
    band = f"[{_g(lo[0])}, {_g(hi[0])}]" if len(set(lo)) == 1 and len(set(hi)) == 1 else "the band"
    return f"{len(lo)} point{'s' if len(lo) > 1 else ''} in {band}, {edge}".rstrip(", ")


def _stat_ci_threshold(v) -> str:
    x = _numbers(v)
    rel = ">" if x.get("side", "above") == "above" else "<"
    level = _num(x.get("level"))
    how = f"{level * 100:.6g}% t-interval, " if math.isfinite(level) else ""
    if x.get("ci_low") is None and x.get("mean") is not None:   # too few seeds for an interval
        seeds = "seed" if x.get("n") == 1 else "seeds"
        return f"{_g(x.get('mean'))} ({x.get('n')} {seeds}: no interval) vs claim {rel} {_g(x.get('threshold'))}"
    return (f"{_g(x.get('mean'))} [{_g(x.get('ci_low'))}, {_g(x.get('ci_high'))}] ({how}{x.get('n')} seeds) "
            f"vs claim {rel} {_g(x.get('threshold'))}")


def _stat_two_sample(v) -> str:
    x = _numbers(v)
    z = _seq(x.get("z"))
    labels = x.get("labels") or ("a", "b")
    if not z:
        return _stat_qualitative(v)
    return (f"{labels[0]} − {labels[1]} at {len(z)} points: max |z| {max(abs(t) for t in z):.2f}, "
            f"{int(sum(map(bool, x.get('rejected') or [])))} differ; claim: {'equal' if x.get('equal') else 'different'}")


def _stat_deterministic(v) -> str:
    x = _numbers(v)
    viol = _seq(x.get("violation"))
    if not viol:
        return "deterministic: " + _short_detail(v)
    inputs = sum(int(_num(n)) for n in (x.get("inputs") or []) if math.isfinite(_num(n)))
    worst = max(viol)
    if worst <= 1:   # a violation in tolerance units: <= 1 holds (negative: with slack)
        return f"deterministic: holds at all {inputs} inputs (worst case {worst:.3g} tolerance units; fails if > 1)"
    return f"deterministic: violated by {worst:.3g} tolerance units (holds iff ≤ 1) over {inputs} inputs"


def _stat_parts(v) -> str:
    """A rule made of several checks (kind ``a+b``): each part's statistic, by name."""
    parts = (v.get("statistic") or {}).get("parts") or {}
    if not parts:
        return v.get("summary") or _short_detail(v)
    out = []
    for name, part in parts.items():
        pv = {"status": part.get("status"), "detail": part.get("detail", ""), "statistic": part.get("statistic") or {},
              "kind": part.get("kind")}
        out.append(f"{name}: {statistic(pv, part.get('kind'))}")
    return "; ".join(out)


def _inner(v) -> tuple[dict, str] | None:
    """A check wrapped in preconditions (statistic ``{"claim": ..., "claim_kind": ..., "preconditions":
    {name: {status, detail}}, "missing": [...]}``, e.g. the GPU rules' ``Given``): the inner
    verdict-like dict and its kind; None for any other statistic."""
    st = v.get("statistic") or {}
    if not isinstance(st, Mapping) or "claim_kind" not in st and "preconditions" not in st:
        return None
    inner = {**v, "statistic": st.get("claim") or {}, "extra": {}, "kind": st.get("claim_kind")}
    return inner, str(st.get("claim_kind") or "")


def _stat_given(v) -> str:
    st = v.get("statistic") or {}
    missing = list(st.get("missing") or [])
    if missing:
        return "not decided: the result lacks " + ", ".join(map(str, missing))
    pre = st.get("preconditions") or {}
    unmet = [name for name, d in pre.items() if (d or {}).get("status") != "passed"]
    inner = _inner(v)
    text = statistic(inner[0], inner[1]) if inner and st.get("claim") else _short_detail(v)
    if pre:
        text += (f"; preconditions met ({', '.join(pre)})" if not unmet
                 else f"; precondition not met: {', '.join(unmet)} (not decided)")
    return text


def _stat_gpu(v) -> str:
    mean, _, n = _est(v)
    x = _numbers(v)
    level = _num(x.get("ci_level"))
    lvl = f"{level:.0%}" if math.isfinite(level) else "95%"
    return (f"{_g(mean, 4)} [{_g(x.get('ci_low'), 4)}, {_g(x.get('ci_high'), 4)}] ({lvl} bootstrap CI, "
            f"{n} seeds) vs {_g(v.get('prediction'), 4)}")


def _short_detail(v, limit: int = 90) -> str:
    d = str(v.get("detail", "")).strip()
    return d if len(d) <= limit else d[: limit - 1].rstrip() + "…"


_STATISTICS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "exact": _stat_exact,
    "bound": _stat_bound,
    "coverage": _stat_coverage,
    "asymptotic": _stat_asymptotic,
    "qualitative": _stat_qualitative,
    "monotone": _stat_monotone,
    "band": _stat_band,
    "ci_threshold": _stat_ci_threshold,
    "two_sample": _stat_two_sample,
    "deterministic": _stat_deterministic,
    "gpu": _stat_gpu,
}


def statistic(v: Mapping[str, Any], kind: str | None = None) -> str:
    """The statistic that fits the verdict's kind, as one line of text (see the module docstring).

    >>> v = {"prediction": 1.0204, "estimate": {"mean": 1.021, "se": 0.00068, "n": 8000}, "z": 0.81}
    >>> statistic(v, "exact")
    '1.0204 vs 1.021 ± 0.00068, z +0.81'
    >>> statistic({"prediction": 0.95, "estimate": {"mean": 0.9512, "se": 0.003, "n": 4000},
    ...            "z": 0.5, "extra": {"ci95_low": 0.9443}}, "coverage")
    'coverage 0.9512 (n = 4000), 95% lower bound 0.9443 vs 1−δ = 0.95'
    """
    if v.get("status") == "skipped":  # not run: a missing optional data set or dependency
        return _short_detail(v)
    kind = kind or kind_of(v)
    if _inner(v) is not None:
        return _stat_given(v)
    if "+" in kind or (v.get("statistic") or {}).get("parts"):   # AllOf (its label may merge equal kinds)
        return _stat_parts(v)
    if kind not in _STATISTICS:   # a rule this report does not know: the check's own one-line summary
        return v.get("summary") or _stat_exact(v)
    return _STATISTICS[kind](v)


def decision_rule(v: Mapping[str, Any], kind: str | None = None) -> str:
    """When the check fails, in numbers (e.g. ``|z| > 4.89``; coverage: the exact upper bound below 1 - delta)."""
    kind = kind or kind_of(v)
    inner = _inner(v)
    if inner is not None and inner[1]:
        return decision_rule(inner[0], inner[1]) + "; underpowered unless its preconditions hold"
    if kind.endswith("+given"):   # skipped or not decided: the wrapped rule by its kind
        return decision_rule(v, kind[: -len("+given")]) + "; underpowered unless its preconditions hold"
    x = _numbers(v)
    zc = x.get("z_critical")
    if kind in ("exact", "asymptotic"):
        rule = f"fails if |z| > {_g(zc, 3)}" if zc is not None else f"two-sided, α = {_g(v.get('alpha'), 2)}"
        if kind == "asymptotic" and x.get("p_fit") is not None:
            rule += f" or fit p < α (p = {_g(x['p_fit'], 2)})"
        return rule
    if kind == "bound":
        return f"fails if z > {_g(zc, 3)}" if zc is not None else f"one-sided, α = {_g(v.get('alpha'), 2)}"
    if kind == "coverage":
        return (f"fails if the exact {1 - _num(v.get('alpha')):.6g} upper bound ({_g(x.get('upper_bound'), 4)}) "
                f"< {_g(v.get('prediction'), 4)}")
    if kind in ("gpu", "ci_threshold"):
        return "passes if the CI clears the threshold; fails if it lies on the wrong side"
    if kind == "monotone":
        return "Holm over the steps: fails if a step goes significantly the wrong way"
    if kind == "band":
        return "Holm over the points: fails if a point lies significantly outside the band"
    if kind == "two_sample":
        return "Holm over the points: fails if the curves significantly contradict the claim"
    if kind == "deterministic":
        return "fails if any violation exceeds its tolerance"
    if "+" in kind:
        return "every part must pass"
    if zc is not None:
        return f"Bonferroni, fails if a step's |z| > {_g(zc, 3)}"
    return f"α = {_g(v.get('alpha'), 2)}"


def power(v: Mapping[str, Any], meta: Mapping[str, Any] | None = None, kind: str | None = None) -> str:
    """How well the check could detect a wrong claim: the SE against the SE needed to see a
    ``rel_tol`` deviation with 90% power, or the coverage test's power, or the status's meaning."""
    kind = kind or kind_of(v, meta)
    inner = _inner(v)
    if inner is not None and inner[1] and (v.get("statistic") or {}).get("claim"):
        return power(inner[0], meta, inner[1])
    x = _numbers(v)
    rel = (meta or {}).get("rel_tol")
    what = f"a {_num(rel):.0%} deviation" if rel is not None and math.isfinite(_num(rel)) else "the stated deviation"
    if isinstance(x.get("power"), (int, float, str)) and math.isfinite(_num(x.get("power"))):
        return f"power {_pct(x['power'])} to detect {what}"
    if "required_se" in x:
        _, se, _ = _est(v)
        ok = "≤" if se <= _num(x["required_se"]) else ">"
        return f"SE {_g(se, 2)} {ok} {_g(x['required_se'], 2)} needed for {what}"
    status = v.get("status")
    if status == "skipped":
        return "not run"
    if kind == "ci_threshold" and math.isfinite(_num(x.get("t_critical"))):   # how far the interval reaches
        half = _num(x["t_critical"]) * _num(x.get("se"))
        return (f"{x.get('n')} seeds: half-width {_g(half, 2)} vs distance to the threshold "
                f"{_g(abs(_num(x.get('mean')) - _num(x.get('threshold'))), 2)}")
    if status == "underpowered":
        return "underpowered: " + _short_detail(v, 70)
    if kind == "gpu":
        n = (v.get("estimate") or {}).get("n")
        return f"{n} seeds"
    if status == "passed":
        return f"powered for {what}"
    return "—"


# --------------------------------------------------------------------------- the verify table
def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width``: broken at spaces, and a word longer than a line (a tuple of
    values) after its commas, only as a last resort inside a token."""
    pieces: list[tuple[str, bool]] = []   # (piece, glued to the previous piece without a space)
    for word in text.split():
        if len(word) <= width:
            pieces.append((word, False))
            continue
        for i, chunk in enumerate(re.findall(r"[^,]*,|[^,]+$", word)):
            pieces.extend((c, i > 0 or j > 0) for j, c in enumerate(textwrap.wrap(chunk, width) or [chunk]))
    lines: list[str] = []
    for piece, glued in pieces:
        sep = "" if glued else " "
        if lines and len(lines[-1]) + len(sep) + len(piece) <= width:
            lines[-1] += sep + piece
        else:
            lines.append(piece)
    return lines or [""]


def verify_table(verdicts: Sequence[Mapping[str, Any]], metas: Mapping[str, Mapping[str, Any]],
                 width: int = TABLE_WIDTH) -> str:
    """The table ``claimcheck verify`` prints: one group per claim (id and kind), one row per
    checked point (parameters, the kind's statistic, verdict), wrapped to ``width`` columns.

    >>> v = {"claim_id": "x.y", "status": "passed", "params": {"n": 10}, "prediction": 1.0,
    ...      "estimate": {"mean": 1.0, "se": 0.01, "n": 100}, "z": 0.0}
    >>> print(verify_table([v], {"x.y": {"kind": "exact"}}))
    claim (kind) / parameters          statistic                                            verdict
    ---------------------------------  ---------------------------------------------------  ------------
    x.y (exact)
      n=10                             1 vs 1 ± 0.01, z +0.00                               PASSED
    """
    w_par, w_ver = 33, 12
    w_stat = width - w_par - w_ver - 4
    lines = [f"{'claim (kind) / parameters':<{w_par}}  {'statistic':<{w_stat}}  verdict",
             f"{'-' * w_par}  {'-' * w_stat}  {'-' * w_ver}"]
    current = None
    for v in verdicts:
        cid = v.get("claim_id", "?")
        kind = kind_of(v, metas.get(cid))
        if cid != current:
            lines.append(f"{cid} ({kind})"[:width])
            current = cid
        par = _wrap(fmt_params(v.get("params") or {}), w_par - 2)
        stat = _wrap(statistic(v, kind), w_stat)
        verdict = str(v.get("status", "?")).upper()
        for i in range(max(len(par), len(stat))):
            p = ("  " + par[i]) if i < len(par) else ""
            s = stat[i] if i < len(stat) else ""
            tail = verdict if i == 0 else ""
            lines.append(f"{p:<{w_par}}  {s:<{w_stat}}  {tail}".rstrip())
    return "\n".join(lines)


def mutant_table(rows: Sequence[Mapping[str, Any]], metas: Mapping[str, Mapping[str, Any]],
                 width: int = TABLE_WIDTH) -> str:
    """The mutation-test table of ``claimcheck verify --mutants``: each wrong formula, whether
    the claim's own check rejected it, and the kind's statistic for the mutant (wrapped)."""
    w_name, w_rej = 40, 8
    w_stat = width - w_name - w_rej - 4
    lines = [f"{'claim / mutant':<{w_name}}  {'rejected':<{w_rej}}  statistic of the mutant",
             f"{'-' * w_name}  {'-' * w_rej}  {'-' * w_stat}"]
    current = None
    for r in rows:
        cid = r.get("claim_id", "?")
        if cid != current:
            lines.append(cid[:width])
            current = cid
        v = r.get("verdict")
        stat = statistic(v, kind_of(v, metas.get(cid))) if v else f"z {_signed(r.get('z'), 1)}"
        names = _wrap(str(r.get("mutant")), w_name - 2)
        stats_ = _wrap(stat, w_stat)
        for i in range(max(len(names), len(stats_))):
            n = ("  " + names[i]) if i < len(names) else ""
            rej = ("skipped" if r.get("rejected") is None else "yes" if r.get("rejected") else "NO") if i == 0 else ""
            st_ = stats_[i] if i < len(stats_) else ""
            lines.append(f"{n:<{w_name}}  {rej:<{w_rej}}  {st_}".rstrip())
    return "\n".join(lines)


# --------------------------------------------------------------------------- grouping
def _groups(report: Mapping[str, Any]) -> list[tuple[str, dict, list[dict], list[dict]]]:
    """(claim id, meta, verdicts, mutant rows) in the order the claims first appear."""
    order: list[str] = []
    by_id: dict[str, list[dict]] = {}
    for v in report["verdicts"]:
        cid = v.get("claim_id", "?")
        if cid not in by_id:
            order.append(cid)
            by_id[cid] = []
        by_id[cid].append(v)
    muts: dict[str, list[dict]] = {}
    for m in report.get("mutants", []):
        muts.setdefault(m.get("claim_id", "?"), []).append(m)
    return [(cid, report["claims"].get(cid) or {}, by_id[cid], muts.get(cid, [])) for cid in order]


def _summary(report) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "underpowered": 0, "skipped": 0}
    for v in report["verdicts"]:
        counts[str(v.get("status"))] = counts.get(str(v.get("status")), 0) + 1
    return counts


def _skipped(counts) -> str:
    return f", {counts['skipped']} SKIPPED (not run: missing optional data or dependency)" if counts.get("skipped") else ""


def _mutant_text(rows: list[dict], meta: Mapping[str, Any]) -> list[str]:
    """One line per mutant: rejected or not (with its z), or the registered ones when not run."""
    if rows:
        desc = {m["name"]: m.get("description", "") for m in meta.get("mutants", [])}
        out = []
        for r in rows:
            mark = "skipped" if r.get("rejected") is None else "rejected" if r.get("rejected") else "NOT rejected"
            d = desc.get(r.get("mutant"), "")
            out.append(f"{r.get('mutant')}{f' ({d})' if d else ''}: {mark}, z {_signed(r.get('z'), 1)}")
        return out
    registered = meta.get("mutants", [])
    if registered:
        return [f"{m['name']} ({m.get('description', '')}): registered, not run in this report "
                "(claimcheck verify --mutants)" for m in registered]
    return []


def _rev(src) -> str:
    git = src.get("git") or {}
    rev = git.get("revision") or "unknown"
    dirty = git.get("dirty")
    return f"{rev}{' (dirty)' if dirty else ' (clean)' if dirty is False else ''}"


def _env_rows(src: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = [("report", src.get("path", "")), ("type", "claimcheck verify" if src.get("type") == "verify" else "GPU job")]
    if src.get("job"):
        rows.append(("job", str(src["job"])))
    rows += [
        ("created", str(src.get("created") or "unknown")),
        ("budget" if src.get("type") == "verify" else "profile", str(src.get("budget"))),
        ("seed", str(src.get("seed"))),
        ("elapsed", f"{_g(src.get('elapsed_s'), 3)} s"),
        ("git revision", _rev(src)),
        ("python", str(src.get("python") or "unknown")),
    ]
    versions = src.get("versions") or {}
    rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v) or "unknown"))
    machine = src.get("machine") or {}
    rows.append(("machine", ", ".join(f"{k} {v}" for k, v in machine.items() if v not in (None, "")) or "unknown"))
    return rows


def _figure_png(cid: str, meta: Mapping[str, Any], report, figures: Path | None) -> Path | None:
    """The PNG of the claim's figure: NAME.png in ``figures``, or a GPU job's own figure."""
    name = meta.get("figure")
    if name and figures is not None:
        p = Path(figures) / f"{name}.png"
        if p.is_file():
            return p
    for v in report["verdicts"]:
        if v.get("claim_id") == cid:
            src = report["sources"][v["source"]]
            for f in src.get("figures") or []:
                # the copy next to the result file first: a committed result names the folder of
                # the run that wrote it, which need not exist where the report is made
                for p in (Path(src["path"]).parent / Path(f).name, Path(f)):
                    if p.suffix == ".png" and p.is_file():
                        return p
    return None


# --------------------------------------------------------------------------- Markdown
def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Mapping[str, Any], *, figures: "str | os.PathLike | None" = None,
                out_path: "str | os.PathLike | None" = None) -> str:
    """The report as GitHub-flavoured Markdown (math as ``$$...$$``; figures linked relative to ``out_path``)."""
    figures = Path(figures) if figures is not None else None
    counts = _summary(report)
    lines = ["# claimcheck report", "",
             f"{counts['passed']} passed, {counts['failed']} failed, {counts['underpowered']} underpowered"
             f"{_skipped(counts)} ({len(report['verdicts'])} checks of {len(_groups(report))} claims).", "",
             "## Environment", ""]
    for src in report["sources"]:
        lines += ["| | |", "|---|---|"] + [f"| {k} | {_md_cell(v)} |" for k, v in _env_rows(src)] + [""]
    lines += ["## Claims", ""]
    for cid, meta, vs, muts in _groups(report):
        kind = kind_of(vs[0], meta)
        lines += [f"### `{cid}`: {meta.get('title', cid)}", ""]
        if meta.get("statement"):
            lines += ["$$", meta["statement"], "$$", ""]
        lines += [f"*Source:* {meta.get('source', '')}  ", f"*Kind:* {kind}"]
        ev = evidence_text(meta, vs, report)
        if ev:
            lines[-1] += "  "
            lines.append(f"*Evidence:* {ev}")
        lines.append("")
        lines += ["| parameters | statistic | decision | power | verdict |", "|---|---|---|---|---|"]
        for v in vs:
            lines.append("| " + " | ".join(_md_cell(c) for c in (
                fmt_params(v.get("params") or {}), statistic(v, kind), decision_rule(v, kind), power(v, meta, kind),
                f"**{str(v.get('status', '?')).upper()}**")) + " |")
        lines.append("")
        for v in vs:
            if v.get("status") != "passed":
                lines += [f"> {str(v.get('status')).upper()} at {fmt_params(v.get('params') or {})}: "
                          f"{_md_cell(v.get('detail', ''))}", ""]
        mt = _mutant_text(muts, meta)
        if mt:
            lines += ["Mutants (wrong formulas the same check must reject):", ""] + [f"- {m}" for m in mt] + [""]
        png = _figure_png(cid, meta, report, figures)
        if png is not None:
            base = Path(out_path).resolve().parent if out_path is not None else Path.cwd()
            try:
                rel = os.path.relpath(png.resolve(), base)
            except ValueError:  # another drive (Windows)
                rel = str(png.resolve())
            lines += [f"![{meta.get('figure') or cid}]({Path(rel).as_posix()})", ""]
        elif meta.get("figure"):
            lines += [f"Figure: `{meta['figure']}` (not found; `claimcheck figures` draws it).", ""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- LaTeX
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}"}
_TEX_UNICODE = {"±": r"$\pm$", "≤": r"$\le$", "≥": r"$\ge$", "−": "--", "δ": r"$\delta$", "α": r"$\alpha$",
                "∞": r"$\infty$", "×": r"$\times$", "…": r"\dots{}", "γ": r"$\gamma$", "σ": r"$\sigma$",
                "λ": r"$\lambda$", "β": r"$\beta$", "ε": r"$\varepsilon$", "η": r"$\eta$", "κ": r"$\kappa$",
                "²": r"\textsuperscript{2}", "’": "'", "–": "--", "—": "---", "′": r"$'$", "ℓ": r"$\ell$"}


def _tex(text: Any) -> str:
    """Plain text escaped for LaTeX; the Unicode symbols the report uses become math."""
    parts = re.split(r"n\^([−+][0-9.e]+)", str(text))   # the observed rate n^-a as math
    if len(parts) > 1:
        return "".join(_tex(p) if i % 2 == 0 else f"$n^{{{p.replace('−', '-')}}}$" for i, p in enumerate(parts))
    out = []
    for ch in str(text):
        if ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ch in _TEX_UNICODE:
            out.append(_TEX_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")  # pdflatex without inputenc extras cannot set it; never a silent compile error
    return "".join(out)


def _tex_status(status: str) -> str:
    return {"passed": "passed", "failed": r"\textbf{FAILED}", "underpowered": r"\emph{underpowered}",
            "skipped": r"\emph{SKIPPED}"}.get(status, _tex(status))


def _tex_params(params) -> str:
    return _tex(fmt_params(params or {})).replace(",", r",\allowbreak{}").replace("=", r"=\allowbreak{}")


def to_tex(report: Mapping[str, Any], *, label: str = "tab:claimcheck") -> str:
    """Two booktabs ``longtable`` floats for a paper's supplement: the claims (id, kind, source,
    then the statement across the page) and the results (a header row per claim, then per
    checked point its parameters, the kind's statistic, power and verdict, and the mutants the
    check rejected), with the environment in the caption. Needs
    ``\\usepackage{booktabs,longtable,array,amsmath,amssymb}``."""
    counts = _summary(report)
    envs = []
    for src in report["sources"]:
        envs.append("; ".join(f"{k} {v}" for k, v in _env_rows(src) if k not in ("report", "type")))
    head_claims = [r"\toprule", r"Claim (kind) & Source \\", r"\midrule"]
    lines = [
        "% claimcheck report -- generated by `claimcheck report --format tex`; do not edit by hand.",
        "% Preamble: \\usepackage{booktabs,longtable,array,amsmath,amssymb}",
        r"\begin{longtable}{@{}>{\raggedright\arraybackslash}p{0.36\linewidth}>{\raggedright\arraybackslash}p{0.60\linewidth}@{}}",
        r"\caption{Claims checked by claimcheck: kind, source and statement.}\label{" + label + r"-claims}\\",
        *head_claims, r"\endfirsthead", *head_claims, r"\endhead", r"\bottomrule", r"\endfoot",
    ]
    for cid, meta, vs, _ in _groups(report):
        breakable = _tex(cid).replace(".", r".\allowbreak{}").replace(r"\_", r"\_\allowbreak{}")
        measured = "; measured" if meta.get("evidence") == "measurement" else ""
        lines.append(rf"\texttt{{{breakable}}} ({_tex(kind_of(vs[0], meta))}{measured}) & {_tex(meta.get('source', ''))} \\")
        if meta.get("statement"):
            lines.append(rf"\multicolumn{{2}}{{@{{}}p{{0.97\linewidth}}@{{}}}}{{\small ${meta['statement']}$}} \\")
        lines.append(r"\addlinespace")
    lines += [r"\end{longtable}", ""]
    head = [r"\toprule", r"Parameters & Statistic & Power & Verdict \\", r"\midrule"]
    lines += [
        r"\begin{longtable}{@{}>{\raggedright\arraybackslash}p{0.27\linewidth}>{\raggedright\arraybackslash}p{0.36\linewidth}>{\raggedright\arraybackslash}p{0.2\linewidth}l@{}}",
        r"\caption{claimcheck results: " + f"{counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['underpowered']} underpowered{_skipped(counts)}. " + _tex(" | ".join(envs)) + r"}\label{" + label + r"}\\",
        *head, r"\endfirsthead", *head, r"\endhead", r"\bottomrule", r"\endfoot",
    ]
    for cid, meta, vs, muts in _groups(report):
        kind = kind_of(vs[0], meta)
        lines.append(rf"\multicolumn{{4}}{{@{{}}l}}{{\texttt{{{_tex(cid)}}} ({_tex(kind)})}} \\")
        for v in vs:
            lines.append(f"{_tex_params(v.get('params'))} & {_tex(statistic(v, kind))} & "
                         f"{_tex(power(v, meta, kind))} & {_tex_status(str(v.get('status')))} \\\\")
        if muts:
            rejected = sum(bool(m.get("rejected")) for m in muts)
            names = _tex(", ".join(str(m.get("mutant")) for m in muts)).replace(",", r",\allowbreak{}")
            lines.append(rf"\multicolumn{{4}}{{@{{}}p{{0.97\linewidth}}@{{}}}}{{\footnotesize mutants rejected: "
                         rf"{rejected}/{len(muts)} ({names})}} \\")
        lines.append(r"\addlinespace")
    lines += [r"\end{longtable}", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML
def latex_to_mathml(tex: str, *, display: bool = True) -> str:
    """MathML for a LaTeX formula (``latex2mathml``), with the few commands it lacks rewritten.

    Raises ValueError when the formula cannot be converted completely (an unknown command
    would otherwise show up as raw ``\\name`` text).

    >>> latex_to_mathml(r"\\arg\\min_\\lambda x", display=False).count("<mo>arg</mo>")
    1
    """
    from latex2mathml.converter import convert

    fixed = re.sub(r"\\arg(?![A-Za-z])", r"\\operatorname{arg}", tex)
    try:
        out = convert(fixed, display="block" if display else "inline")
    except Exception as exc:  # noqa: BLE001 -- latex2mathml raises its own exception types
        raise ValueError(f"statement {tex!r} cannot be converted to MathML: {exc}") from None
    leftover = re.findall(r">\\([A-Za-z]+)<", out)
    if leftover:
        raise ValueError(f"statement {tex!r}: latex2mathml does not know \\{leftover[0]}")
    return re.sub(r'<mi mathvariant="(double-struck|bold|script|fraktur)">([A-Za-z0-9]+)</mi>', _math_letters, out)


# MathML Core (what browsers implement) ignores mathvariant except "normal": \mathbb E must be
# written with the Unicode mathematical letter itself (U+1D53C), as MathML Core recommends.
_VARIANT_BASE = {"bold": (0x1D400, 0x1D41A, 0x1D7CE), "script": (0x1D49C, 0x1D4B6, None),
                 "fraktur": (0x1D504, 0x1D51E, None), "double-struck": (0x1D538, 0x1D552, 0x1D7D8)}
_VARIANT_HOLES = {  # letters encoded earlier in the Letterlike Symbols block
    "script": {"B": 0x212C, "E": 0x2130, "F": 0x2131, "H": 0x210B, "I": 0x2110, "L": 0x2112, "M": 0x2133,
               "R": 0x211B, "e": 0x212F, "g": 0x210A, "o": 0x2134},
    "fraktur": {"C": 0x212D, "H": 0x210C, "I": 0x2111, "R": 0x211C, "Z": 0x2128},
    "double-struck": {"C": 0x2102, "H": 0x210D, "N": 0x2115, "P": 0x2119, "Q": 0x211A, "R": 0x211D, "Z": 0x2124},
    "bold": {},
}


def _math_letter(variant: str, ch: str) -> str:
    upper, lower, digit = _VARIANT_BASE[variant]
    if ch in _VARIANT_HOLES[variant]:
        return chr(_VARIANT_HOLES[variant][ch])
    if "A" <= ch <= "Z":
        return chr(upper + ord(ch) - ord("A"))
    if "a" <= ch <= "z":
        return chr(lower + ord(ch) - ord("a"))
    if digit is not None and ch.isdigit():
        return chr(digit + ord(ch) - ord("0"))
    return ch


def _math_letters(m: "re.Match[str]") -> str:
    variant, text = m.group(1), m.group(2)
    return "<mi>" + "".join(f"&#x{ord(_math_letter(variant, c)):05X};" for c in text) + "</mi>"


_CSS = """
body{font-family:"STIX Two Text","Times New Roman",serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.4}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}h3{font-size:1.05rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{padding:.2rem .5rem;text-align:left;vertical-align:top}
thead th{border-top:2px solid #111;border-bottom:1px solid #111}tbody tr:last-child td{border-bottom:2px solid #111}
.env td:first-child{font-weight:bold;white-space:nowrap}.passed{color:#006d2c;font-weight:bold}
.failed{color:#b30000;font-weight:bold}.underpowered{color:#8a5a00;font-weight:bold}.skipped{color:#666;font-weight:bold}
.claim{margin-bottom:2rem}.meta{color:#444;font-size:.9rem}math[display=block]{margin:.5rem 0;font-size:1.1rem}
code{font-family:"DejaVu Sans Mono",monospace;font-size:.85rem}img{max-width:100%;height:auto;border:1px solid #eee}
.detail{font-size:.85rem;color:#444}.tex-fallback{color:#b30000}
"""


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def to_html(report: Mapping[str, Any], *, figures: "str | os.PathLike | None" = None) -> str:
    """One self-contained HTML page: MathML statements, figures as ``data:`` URIs, inline CSS,
    and a Content-Security-Policy that forbids every network request."""
    figures = Path(figures) if figures is not None else None
    e = html.escape
    counts = _summary(report)
    groups = _groups(report)
    out = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>claimcheck report</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        "<h1>claimcheck report</h1>",
        f'<p id="summary">{counts["passed"]} passed, {counts["failed"]} failed, {counts["underpowered"]} underpowered'
        f"{_skipped(counts)} ({len(report['verdicts'])} checks of {len(groups)} claims).</p>",
        "<h2>Environment</h2>",
    ]
    for src in report["sources"]:
        out.append('<table class="env"><tbody>' + "".join(f"<tr><td>{e(k)}</td><td>{e(str(v))}</td></tr>"
                                                         for k, v in _env_rows(src)) + "</tbody></table>")
    out.append("<h2>Claims</h2>")
    out.append("<ul>" + "".join(f'<li><a href="#{e(cid)}"><code>{e(cid)}</code></a> {e(meta.get("title", ""))}</li>'
                                for cid, meta, _, _ in groups) + "</ul>")
    for cid, meta, vs, muts in groups:
        kind = kind_of(vs[0], meta)
        out.append(f'<section class="claim" id="{e(cid)}">')
        out.append(f"<h3><code>{e(cid)}</code>: {e(meta.get('title', cid))}</h3>")
        if meta.get("statement"):
            try:
                out.append(f'<div class="statement">{latex_to_mathml(meta["statement"])}</div>')
            except ValueError:
                out.append(f'<div class="statement tex-fallback"><code>{e(meta["statement"])}</code></div>')
        ev = evidence_text(meta, vs, report)
        out.append(f'<p class="meta">Source: {e(str(meta.get("source", "")))}<br>Kind: {e(kind)}'
                   + (f'<br>Evidence: <span class="evidence">{e(ev)}</span>' if ev else "") + "</p>")
        out.append("<table><thead><tr><th>parameters</th><th>statistic</th><th>decision</th><th>power</th>"
                   "<th>verdict</th></tr></thead><tbody>")
        for v in vs:
            status = str(v.get("status", "?"))
            out.append(f"<tr><td><code>{e(fmt_params(v.get('params') or {}))}</code></td><td>{e(statistic(v, kind))}</td>"
                       f"<td>{e(decision_rule(v, kind))}</td><td>{e(power(v, meta, kind))}</td>"
                       f'<td class="{e(status)}">{e(status.upper())}</td></tr>')
            out.append(f'<tr><td></td><td colspan="4" class="detail">{e(str(v.get("detail", "")))}</td></tr>')
        out.append("</tbody></table>")
        mt = _mutant_text(muts, meta)
        if mt:
            out.append("<p>Mutants (wrong formulas the same check must reject):</p><ul>"
                       + "".join(f"<li>{e(m)}</li>" for m in mt) + "</ul>")
        png = _figure_png(cid, meta, report, figures)
        if png is not None:
            out.append(f'<figure><img alt="figure {e(meta.get("figure") or cid)}" src="{_data_uri(png)}">'
                       f"<figcaption>{e(meta.get('figure') or png.stem)}</figcaption></figure>")
        elif meta.get("figure"):
            out.append(f"<p class=\"meta\">Figure <code>{e(meta['figure'])}</code>: not found "
                       "(<code>claimcheck figures</code> draws it).</p>")
        out.append("</section>")
    out.append(f'<p class="meta">Generated by claimcheck {e(_version())} on '
               f"{_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}.</p>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _version() -> str:
    from claimcheck import __version__

    return __version__


# --------------------------------------------------------------------------- writing
def write(report: Mapping[str, Any], fmt: str, out: "str | os.PathLike", *,
          figures: "str | os.PathLike | None" = None) -> Path:
    """Render ``report`` (from :func:`load`) as ``fmt`` (md, tex or html) and write ``out`` atomically."""
    if fmt not in FORMATS:
        raise ValueError(f"format={fmt!r}, must be one of {', '.join(FORMATS)}")
    out = Path(out)
    if fmt == "md":
        text = to_markdown(report, figures=figures, out_path=out)
    elif fmt == "tex":
        text = to_tex(report)
    else:
        text = to_html(report, figures=figures)
    return atomic_write_text(out, text)


def main_report(inputs: Iterable["str | os.PathLike"], fmt: str, out, figures=None) -> Path:
    """``claimcheck report``: load the inputs, find the figures, write the report."""
    report = load(list(inputs))
    if figures is None:
        for cand in (Path("figures"), *(Path(s["path"]).parent.parent / "figures" for s in report["sources"])):
            if cand.is_dir():
                figures = cand
                break
    return write(report, fmt, out, figures=figures)
