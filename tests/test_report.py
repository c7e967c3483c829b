"""``claimcheck report``: Markdown, booktabs LaTeX and self-contained HTML from a real verify report
(and from a GPU job's result.json); the per-kind statistics; bad input."""
from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess

import pytest

from claimcheck import get_claim
from claimcheck.cli import EXIT_OK, EXIT_USAGE, main
from claimcheck.report import (decision_rule, evidence_text, latex_to_mathml, load, power, statistic, to_tex,
                               verify_table)

from report_helpers import CLAIMS, FIGURE, MEASURED_ID, measured_claim, tiny_png, verify_report


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return verify_report(tmp_path_factory)


def _report(inputs, tmp_path, fmt, *extra):
    report, figures = inputs
    out = tmp_path / f"claims.{fmt}"
    assert main(["report", str(report), "--format", fmt, "--out", str(out), "--figures", str(figures), *extra]) == EXIT_OK
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]   # written atomically: no temp file left
    return out.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- Markdown
def test_markdown_has_every_claims_statement_source_verdicts_mutants_and_environment(inputs, tmp_path):
    md = _report(inputs, tmp_path, "md")
    data = json.loads(inputs[0].read_text())
    for cid in CLAIMS:
        c = get_claim(cid)
        assert f"### `{cid}`: {c.title}" in md
        assert f"$$\n{c.statement}\n$$" in md
        assert c.source in md
        for m in c.mutants:
            assert f"{m.name} ({m.description}): rejected" in md
    assert md.count("**PASSED**") == data["summary"]["passed"] == len(data["verdicts"])
    env = data["environment"]
    for needle in (f"numpy {env['versions']['numpy']}", f"scipy {env['versions']['scipy']}", "budget | quick",
                   "seed | 0", f"cpus {env['machine']['cpus']}", str(env["git"]["revision"])):
        assert needle in md, needle
    assert ("(dirty)" in md) or ("(clean)" in md) or env["git"]["revision"] is None


def test_markdown_links_the_figure_relative_to_the_output_file(inputs, tmp_path):
    md = _report(inputs, tmp_path, "md")
    links = re.findall(r"!\[([^\]]*)\]\(([^)]+)\)", md)
    assert (FIGURE, f"{FIGURE}.png") in [(a, b.rsplit("/", 1)[-1]) for a, b in links]
    target = next(b for a, b in links if a == FIGURE)
    assert (tmp_path / target).resolve() == (inputs[1] / f"{FIGURE}.png").resolve()
    assert "Figure: `double_descent_modelwise` (not found" in md   # named, with how to draw it


# --------------------------------------------------------------------------- LaTeX
def _outside_math(row: str) -> str:
    parts = re.split(r"(?<!\\)\$", row)
    assert len(parts) % 2 == 1, f"unbalanced $ in {row!r}"
    return "".join(parts[::2])


def _check_longtable(body: str, ncols: int) -> int:
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\endfirsthead", r"\endhead", r"\endfoot"):
        assert rule in body, rule
    rows = body.split(r"\endfoot", 1)[1].replace(r"\addlinespace", "").split("\\\\\n")
    rows = [r.strip() for r in rows if r.strip()]
    assert rows
    for row in rows:
        text = _outside_math(row)
        amps = len(re.findall(r"(?<!\\)&", text))
        assert amps == (0 if r"\multicolumn{" in row else ncols - 1), row
        assert not re.search(r"(?<!\\)[_^#%]", text.replace(r"\^{}", "")), row       # escaped specials
        assert all(ord(ch) < 128 for ch in text), row                                 # pdflatex-safe
    return len(rows)


def test_tex_is_two_well_formed_booktabs_longtables(inputs, tmp_path):
    tex = _report(inputs, tmp_path, "tex")
    body = "\n".join(line for line in tex.splitlines() if not line.startswith("%"))
    stripped = body.replace(r"\{", "").replace(r"\}", "")
    assert stripped.count("{") == stripped.count("}")
    tables = re.findall(r"\\begin\{longtable\}\{([^\n]*)\}\n(.*?)\\end\{longtable\}", body, flags=re.S)
    assert len(tables) == 2 == body.count(r"\end{longtable}")
    spec_claims, claims_body = tables[0]
    spec_results, results_body = tables[1]
    assert spec_claims.count("p{") == 2 and spec_results.count("p{") == 3
    # claims: per claim a row (id, kind & source) and a full-width statement row
    assert _check_longtable(claims_body, 2) == 2 * len(CLAIMS)
    data = json.loads(inputs[0].read_text())
    # results: per claim a header row and a mutants row (every claim here has mutants), a row per verdict
    assert _check_longtable(results_body, 4) == len(data["verdicts"]) + 2 * len(CLAIMS)
    assert r"\multicolumn{4}{@{}l}{\texttt{ridgeless.minnorm\_finite} (exact)}" in results_body
    assert "$" + get_claim("pac_bayes.coverage").statement + "$" in claims_body


def _tex_engine():
    return shutil.which("pdflatex") or shutil.which("lualatex") or shutil.which("xelatex")


@pytest.mark.skipif(_tex_engine() is None, reason="no TeX engine (pdflatex/lualatex/xelatex) on this machine; "
                    "the table's structure is checked by test_tex_is_two_well_formed_booktabs_longtables")
def test_tex_table_compiles(inputs, tmp_path):
    out = tmp_path / "claims.tex"
    _report(inputs, tmp_path, "tex")
    doc = tmp_path / "paper.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage[margin=1in]{geometry}\n"
                   "\\usepackage{booktabs,longtable,array,amsmath,amssymb}\n\\begin{document}\n"
                   f"\\input{{{out.name}}}\n\\end{{document}}\n")
    res = subprocess.run([_tex_engine(), "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "Overfull \\hbox" not in (tmp_path / "paper.log").read_text(errors="replace")   # fits the text width
    assert (tmp_path / "paper.pdf").stat().st_size > 10_000


# --------------------------------------------------------------------------- HTML (static; the browser test renders it)
class _Resources(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "action", "poster", "data") and v is not None:
                self.urls.append(v)


def test_html_is_self_contained(inputs, tmp_path):
    page = _report(inputs, tmp_path, "html")
    p = _Resources()
    p.feed(page)
    assert "default-src 'none'" in page                          # CSP: the page cannot load anything
    assert all(u.startswith(("data:image/png;base64,", "#")) for u in p.urls), [u[:40] for u in p.urls]
    assert sum(u.startswith("data:image/png") for u in p.urls) == 1     # the one figure that exists
    assert p.tags.count("math") == len(CLAIMS) and 'class="statement tex-fallback"' not in page
    assert "script" not in p.tags and "link" not in p.tags


def test_every_registered_statement_converts_to_mathml_completely():
    from claimcheck import all_claims

    for c in all_claims():
        m = latex_to_mathml(c.statement)
        assert m.startswith("<math") and not re.search(r">\\[A-Za-z]+<", m), c.id
    with pytest.raises(ValueError, match=r"does not know \\frobnicate"):
        latex_to_mathml(r"\frobnicate x")                        # unknown commands are not passed through


def test_mathml_uses_unicode_letters_for_variants_that_browsers_ignore():
    m = latex_to_mathml(r"\mathbb E\,\mathbb R\,\mathcal N\,\mathbf x", display=False)
    assert "mathvariant" not in m
    for code in ("1D53C", "0211D", "1D4A9", "1D431"):   # double-struck E, R (Letterlike hole), script N, bold x
        assert f"&#x{code};" in m


# --------------------------------------------------------------------------- GPU results
def test_report_reads_a_gpu_jobs_result_json_next_to_a_verify_report(inputs, tmp_path, request):
    pytest.importorskip("torch")
    request.getfixturevalue("one_torch_thread")
    runs = tmp_path / "runs"
    fast = ["--set", "steps=20", "--set", "n_test=256", "--set", "hidden=(16,)", "--set", "n_evals=3", "--no-figures"]
    main(["gpu", "real_vs_ideal", "--profile", "smoke", "--device", "cpu", "--out", str(runs), *fast])
    result = next(runs.glob("*/result.json"))
    out = tmp_path / "both.md"
    assert main(["report", str(inputs[0]), str(result), "--format", "md", "--out", str(out)]) == EXIT_OK
    md = out.read_text()
    verdict = json.loads(result.read_text())["verdict"]
    # the statistic of the kind the job's check gave its verdict (whatever rule the job uses)
    row = [line for line in md.splitlines() if line.startswith("| ") and statistic(verdict) in line.replace("\\|", "|")]
    assert f"### `{verdict['claim_id']}`" in md and len(row) == 1 and "type | GPU job" in md
    assert f"**{verdict['status'].upper()}**" in row[0] and "n/a" not in statistic(verdict)
    # a result file moved elsewhere (committed evidence): its figure is found next to it, not at the
    # absolute path of the run that wrote it
    moved = tmp_path / "evidence" / "result.json"
    moved.parent.mkdir()
    moved.write_text(json.dumps({**json.loads(result.read_text()), "figures": [str(tmp_path / "gone" / "job.png")]}))
    tiny_png(moved.parent / "job.png")
    assert main(["report", str(moved), "--format", "md", "--out", str(out)]) == EXIT_OK
    assert f"](evidence/job.png)" in out.read_text()
    assert "job | real_vs_ideal" in md and "profile | smoke" in md and "torch" in md


@pytest.fixture
def measured(tmp_path):
    """A claim on measured results registered from a module file (removed from the registry after)."""
    import claimcheck.registry as registry

    registry.claim_ids()                    # load the catalogue first: what is restored must include it
    saved = dict(registry._REGISTRY)
    module, result = measured_claim(tmp_path)
    yield module, result
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


def test_claims_on_measured_results_get_their_checks_kind_and_skipped_where_the_result_is_absent(measured, tmp_path):
    module, result = measured
    verify = tmp_path / "verify.json"
    code = main(["verify", "--module", str(module), MEASURED_ID, "--mutants", "--json", str(verify)])
    data = json.loads(verify.read_text())
    assert code == 3 and [v["status"] for v in data["verdicts"]] == ["passed", "skipped"]   # skipped: not confirmed
    assert data["claims"][MEASURED_ID]["evidence"] == "measurement" and data["claims"][MEASURED_ID]["kind"] == "ci_threshold"
    out = tmp_path / "m.md"
    assert main(["report", str(verify), "--format", "md", "--out", str(out)]) == EXIT_OK
    md = out.read_text()
    rows = [line for line in md.splitlines() if line.startswith(f"| result={result}")]
    assert len(rows) == 1 and "(95% t-interval, 4 seeds) vs claim > 0" in rows[0] and "**PASSED**" in rows[0]   # the t-interval
    skipped = [line for line in md.splitlines() if "absent.json" in line and line.startswith("|")]
    assert len(skipped) == 1 and "no measured result" in skipped[0] and "not run" in skipped[0] and "**SKIPPED**" in skipped[0]
    assert "*Kind:* ci_threshold" in md and "*Evidence:* measured results, re-decided by claimcheck verify" in md
    assert "no_gap (the gap is -0.1 on every seed): rejected" in md
    assert "1 passed, 0 failed, 0 underpowered, 1 SKIPPED" in md
    tex = to_tex(load(verify))
    assert r"(ci\_threshold; measured)" in tex and r"\emph{SKIPPED}" in tex
    out = tmp_path / "m.html"
    assert main(["report", str(verify), "--format", "html", "--out", str(out)]) == EXIT_OK
    page = out.read_text()
    assert page.count('<span class="evidence">') == 1 and '<td class="skipped">SKIPPED</td>' in page
    # a simulated claim says nothing about measured evidence
    assert evidence_text({"evidence": "simulation"}, [], {"sources": []}) is None


# --------------------------------------------------------------------------- per-kind statistics
def _v(**kw):
    base = {"claim_id": "x.y", "status": "passed", "prediction": 1.0, "estimate": {"mean": 1.0, "se": 0.01, "n": 100},
            "z": 0.0, "alpha": 1e-6, "params": {}, "detail": "", "extra": {}}
    return {**base, **kw}


def test_each_kind_gets_its_own_statistic():
    exact = _v(prediction=1.0204, estimate={"mean": 1.021, "se": 0.00068, "n": 8000}, z=0.81,
               extra={"z_critical": 4.89, "required_se": 0.0041})
    assert statistic(exact, "exact") == "1.0204 vs 1.021 ± 0.00068, z +0.81"
    assert decision_rule(exact, "exact") == "fails if |z| > 4.89"
    assert power(exact, {"rel_tol": 0.05}, "exact") == "SE 0.00068 ≤ 0.0041 needed for a 5% deviation"
    cov = _v(prediction=0.95, estimate={"mean": 1.0, "se": 1.6e-152, "n": 4000}, z=14.51,
             extra={"ci95_low": 0.9991, "upper_bound": 1.0, "power": 0.97})
    s = statistic(cov, "coverage")
    assert s == "coverage 1 (n = 4000), 95% lower bound 0.9991 vs 1−δ = 0.95"
    assert "z" not in s and "e-152" not in s                       # the misleading "1 ± 1.6e-152, z +14.51" is gone
    assert power(cov, {}, "coverage") == "power 97% to detect the stated deviation"
    det = _v(z="-inf", detail="closed form = chain-rule sum within 0.0003 x 1e-10 on 7 data sets")
    assert statistic(det, "qualitative").startswith("deterministic: closed form") and "inf" not in statistic(det, "qualitative")
    curve = _v(z=-3.5, extra={"steps": [1, 2, 3, 5], "z": [0.1, -3.5, 1.0, 2.0]})
    assert statistic(curve, "qualitative") == "4 steps, worst z -3.50"
    asym = _v(prediction=1.0, estimate={"mean": 0.999, "se": 0.0023, "n": 9}, z=-0.4,
              extra={"observed_rate": 1.05, "observed_rate_se": 0.043, "p_fit": 0.38, "z_critical": 4.92})
    assert statistic(asym, "asymptotic") == "limit 1 vs extrapolated 0.999 ± 0.0023, z -0.40; rate n^−1.05 ± 0.043"
    assert decision_rule(asym, "asymptotic") == "fails if |z| > 4.92 or fit p < α (p = 0.38)"
    bound = _v(prediction=0.82, estimate={"mean": 0.56, "se": 0.0022, "n": 100}, z=-119.4, extra={"margin": 0.26})
    assert statistic(bound, "bound") == "0.56 ± 0.0022 ≤ bound 0.82, margin 0.26, z -119.40"
    gpu = _v(claim_id="gpu.x", prediction=0.0, estimate={"mean": 0.3, "se": 0.05, "n": 3},
             extra={"ci_low": 0.2, "ci_high": 0.4, "ci_level": 0.95})
    assert statistic(gpu) == "0.3 [0.2, 0.4] (95% bootstrap CI, 3 seeds) vs 0"
    assert statistic(_v(prediction="inf", z="-inf"), "exact") == "∞ vs 1 ± 0.01, z −∞"   # a singular point, said so


def test_verify_table_wraps_long_cells_within_100_columns():
    long = _v(params={f"parameter_{i}": 1.0 for i in range(12)}, detail="x " * 200, z="inf")
    table = verify_table([long, _v()], {"x.y": {"kind": "qualitative"}})
    assert max(map(len, table.splitlines())) <= 100
    assert table.count("PASSED") == 2 and "parameter_11=1" in table.replace("\n", " ")


# --------------------------------------------------------------------------- bad input and old reports
def test_report_refuses_files_that_are_not_reports(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    args = ["--format", "md", "--out", str(tmp_path / "o.md")]
    assert main(["report", str(bad), *args]) == EXIT_USAGE
    assert "is neither a 'claimcheck verify --json' report nor a GPU job's result.json" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.json"), *args]) == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err
    bad.write_text("{not json")
    assert main(["report", str(bad), *args]) == EXIT_USAGE
    assert "is not readable JSON" in capsys.readouterr().err
    bad.write_text(json.dumps({"job": "x", "verdict": None, "partial": True}))
    assert main(["report", str(bad), *args]) == EXIT_USAGE
    assert "partial GPU run" in capsys.readouterr().err
    assert not (tmp_path / "o.md").exists()
    with pytest.raises(SystemExit):
        main(["report", str(bad), "--format", "pdf", "--out", "x"])


def test_a_report_from_before_the_claims_metadata_still_renders_from_the_registry(inputs, tmp_path):
    data = json.loads(inputs[0].read_text())
    for key in ("claims", "environment", "git_dirty"):
        data.pop(key)
    for v in data["verdicts"]:
        v.pop("kind", None)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    report = load(old)
    assert report["claims"]["pac_bayes.coverage"]["statement"] == get_claim("pac_bayes.coverage").statement
    tex = to_tex(report)
    assert "95\\% lower bound" in tex and "numpy" in tex


def test_the_check_librarys_kinds_and_statistics_are_formatted_too():
    # the numbers the claimcheck.checks rules put in Verdict.statistic (documented in each class's STATISTIC)
    mono = _v(kind="monotone", statistic={"x": [1, 2, 4], "step_z": [12.0, 7.5], "direction": -1, "against": [False, False]})
    assert statistic(mono) == "2 steps down, weakest step z +7.50, 0 against"
    band = _v(kind="band", statistic={"x": [1, 2], "low": [0.5, 0.5], "high": [1.5, 1.5], "z_low": [6.0, 3.0],
                                      "z_high": [4.0, 9.0], "every": True})
    assert statistic(band) == "2 points in [0.5, 1.5], min z to the edge 3.0"
    ci = _v(kind="ci_threshold", statistic={"mean": 0.3, "se": 0.036, "n": 5, "level": 0.95, "ci_low": 0.2,
                                            "ci_high": 0.4, "t_critical": 2.776, "threshold": 0.0, "side": "above"})
    assert statistic(ci) == "0.3 [0.2, 0.4] (95% t-interval, 5 seeds) vs claim > 0"
    assert power(ci) == "5 seeds: half-width 0.1 vs distance to the threshold 0.3"
    few = _v(kind="ci_threshold", statistic={"mean": 0.3, "se": 0.0, "n": 1, "level": 0.95, "ci_low": None,
                                             "ci_high": None, "t_critical": None, "threshold": 0.5, "side": "below"})
    assert statistic(few) == "0.3 (1 seed: no interval) vs claim < 0.5"
    two = _v(kind="two_sample", statistic={"z": [0.5, -1.2], "rejected": [False, False], "labels": ["real", "ideal"],
                                           "equal": True})
    assert statistic(two) == "real − ideal at 2 points: max |z| 1.20, 0 differ; claim: equal"
    det = _v(kind="deterministic", statistic={"x": ["order"], "violation": [0.02], "inputs": [2000]})
    assert statistic(det) == "deterministic: holds at all 2000 inputs (worst case 0.02 tolerance units; fails if > 1)"
    broken = _v(kind="deterministic", status="failed", statistic={"x": ["order"], "violation": [3.5], "inputs": [2000]})
    assert statistic(broken) == "deterministic: violated by 3.5 tolerance units (holds iff ≤ 1) over 2000 inputs"
    both = _v(kind="monotone+band", statistic={"parts": {
        "falls": {"kind": "monotone", "status": "passed", "detail": "", "statistic": mono["statistic"]},
        "stays": {"kind": "band", "status": "passed", "detail": "", "statistic": band["statistic"]}}})
    assert statistic(both) == "falls: 2 steps down, weakest step z +7.50, 0 against; stays: 2 points in [0.5, 1.5], min z to the edge 3.0"
    curve = _v(kind="exact", statistic={"x": [10, 20, 40], "z": [0.5, -2.5, 1.0]})
    assert statistic(curve) == "3 points, max |z| 2.50 at x=20"
    assert statistic(_v(kind="new_rule", summary="what the rule says")) == "what the rule says"
    same = _v(kind="ci_threshold", statistic={"parts": {    # AllOf of two equal kinds: its label is one kind
        "a": {"kind": "ci_threshold", "status": "passed", "detail": "", "statistic": ci["statistic"]},
        "b": {"kind": "ci_threshold", "status": "passed", "detail": "", "statistic": ci["statistic"]}}})
    assert statistic(same) == "a: 0.3 [0.2, 0.4] (95% t-interval, 5 seeds) vs claim > 0; b: 0.3 [0.2, 0.4] (95% t-interval, 5 seeds) vs claim > 0"
    # a check decided only where its preconditions hold (the GPU rules' Given): the inner statistic and the preconditions
    given = _v(kind="ci_threshold+given", statistic={"claim": ci["statistic"], "claim_kind": "ci_threshold", "missing": [],
                                                     "preconditions": {"trained": {"status": "passed", "detail": ""}}})
    assert statistic(given) == "0.3 [0.2, 0.4] (95% t-interval, 5 seeds) vs claim > 0; preconditions met (trained)"
    assert decision_rule(given).endswith("; underpowered unless its preconditions hold") and power(given) == power(ci)
    unmet = _v(kind="ci_threshold+given", status="underpowered", statistic={
        **given["statistic"], "preconditions": {"trained": {"status": "failed", "detail": "train error 0.2"}}})
    assert statistic(unmet).endswith("; precondition not met: trained (not decided)")
    lacking = _v(kind="band+given", status="underpowered", statistic={"missing": ["widths"], "preconditions": {}})
    assert statistic(lacking) == "not decided: the result lacks widths"
    skipped_given = _v(kind="band+given", status="skipped", detail="skipped: no result", statistic={})
    assert decision_rule(skipped_given).startswith("Holm over the points") and statistic(skipped_given) == "skipped: no result"

    skipped = _v(status="skipped", detail="skipped: the MNIST test set is not in /nowhere")
    assert statistic(skipped, "exact") == "skipped: the MNIST test set is not in /nowhere" and power(skipped) == "not run"
