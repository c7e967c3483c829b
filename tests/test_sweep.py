"""``claimcheck sweep``: the grid, parallel and SLURM (submitit debug executor) runs that agree bit
for bit with a serial run, the per-point cache, points where the claim is not defined, the heatmap."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from claimcheck import get_claim
from claimcheck.cli import EXIT_FAILED, EXIT_USAGE, main
from claimcheck.sweep import cache_key, draw_heatmap, parse_grid, relative_error, save_heatmap, sweep

from report_helpers import shared_dir

CLAIM = "ridgeless.minnorm_finite"
# The sweep of the command-line test runs the claim with a registered mutant installed (p/(n-p)
# instead of p/(n-p-1) in the variance): where p < n its check rejects the wrong formula (failed,
# exit 1), where p > n the mutant equals the true risk and must not fail. noise = -1 is outside
# the claim's declared domain (its check raises ValueError: "not defined").
MUTANT = "variance_p_over_n_minus_p"
SWEPT = f"{CLAIM}[{MUTANT}]"
GRID = ["--grid", "n=20,40", "--grid", "p=8,60", "--grid", "noise=1,-1"]
STEM = "sweep_ridgeless_minnorm_finite_variance_p_over_n_minus_p_z"


def _verdicts(result):
    return [(e["params"], e["verdict"], e["error"]) for e in result["points"]]


def _cli_sweep(tmp) -> None:
    args = ["sweep", SWEPT, *GRID, "--jobs", "2", "--cache", str(tmp / "cache"), "--figures", str(tmp / "figures"),
            "--json", str(tmp / "sweep.json")]
    (tmp / "code.json").write_text(json.dumps(main(args)))


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """The command line, two worker processes, a fresh cache; run once per test session (also when
    xdist workers split this module: tests/report_helpers.py shared_dir)."""
    tmp = shared_dir(tmp_path_factory, "sweep-cli", _cli_sweep)
    return tmp, json.loads((tmp / "code.json").read_text()), json.loads((tmp / "sweep.json").read_text())


def test_sweep_draws_its_heatmap_for_one_claim(cli_run):
    from matplotlib import image

    tmp, code, result = cli_run
    assert code == EXIT_FAILED          # the wrong formula is rejected somewhere: exit 1, as in verify
    s = result["summary"]
    assert (s["points"], s["computed"], s["cached"], s["invalid"]) == (8, 8, 0, 4)
    assert s["failed"] + s["passed"] + s["underpowered"] == 4
    fig = tmp / "figures"
    assert result["figures"] == [str(fig / f"{STEM}.pdf"), str(fig / f"{STEM}.png")]
    pdf = (fig / f"{STEM}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf      # vector, TrueType fonts embedded
    px = image.imread(fig / f"{STEM}.png")[..., :3]
    assert px.shape[1] == round(5.5 * 300)                       # two panels (noise = 1, -1): NeurIPS text width
    assert (px.min(axis=2) < 0.5).mean() > 0.01                   # not blank
    red = (px[..., 0] > px[..., 2] + 0.2).mean()                  # the z > 0 colour of the rejected cells
    assert red > 0.002
    invalid = [e for e in result["points"] if e["verdict"] is None]
    assert all(e["params"]["noise"] == -1 and "noise=-1.0, must be >= 0.1" in e["error"] for e in invalid)
    status = {(e["params"]["n"], e["params"]["p"]): e["verdict"]["status"] for e in result["points"] if e["verdict"]}
    assert status[(20, 8)] == "failed"                            # the mutant's own point: rejected
    assert status[(20, 60)] != "failed" and status[(40, 60)] != "failed"   # p > n: the mutant is the truth there
    assert all(e["verdict"]["z"] > 0 for e in result["points"]          # p/(n-p) < p/(n-p-1): estimate above it
               if e["verdict"] and e["verdict"]["status"] == "failed")
    assert result["environment"]["versions"]["numpy"] and result["claim"]["kind"] == "exact"
    assert result["claim_id"] == SWEPT


def test_rerun_computes_only_the_new_points_and_matches_a_serial_run_bit_for_bit(cli_run, tmp_path):
    tmp, _, first = cli_run
    claim = get_claim(SWEPT)
    wider = sweep(claim, {"n": [20, 40], "p": [8, 60, 100], "noise": [1.0, -1.0]}, budget="quick", seed=0, jobs=1,
                  cache=tmp / "cache")
    assert (wider["summary"]["computed"], wider["summary"]["cached"]) == (4, 8)
    old = {json.dumps(p, sort_keys=True): (v, e) for p, v, e in _verdicts(first)}
    for p, v, e in _verdicts(wider):
        if json.dumps(p, sort_keys=True) in old:
            assert old[json.dumps(p, sort_keys=True)] == (v, e)
    serial = sweep(claim, {"n": [20, 40], "p": [8, 60], "noise": [1.0, -1.0]}, budget="quick", seed=0, jobs=1, cache=None)
    assert _verdicts(serial) == _verdicts(first)        # two processes and one: the same verdicts, bit for bit
    import claimcheck.sweep as S

    assert S._is_registered(claim)                      # a registered mutant is rebuilt by the workers (pool used)
    assert not S._is_registered(claim.mutate(lambda **kw: 0.0, "adhoc"))   # an ad-hoc one is checked in-process


def test_the_cache_key_covers_claim_parameters_budget_seed_and_version(monkeypatch, tmp_path):
    base = cache_key(CLAIM, {"n": 20, "p": 5}, "quick", 0)
    assert len({base, cache_key(CLAIM, {"n": 20, "p": 6}, "quick", 0), cache_key(CLAIM, {"n": 20, "p": 5}, "standard", 0),
                cache_key(CLAIM, {"n": 20, "p": 5}, "quick", 1), cache_key("ridgeless.optimal_lambda", {"n": 20, "p": 5}, "quick", 0)}) == 5
    claim = get_claim(CLAIM)
    r = sweep(claim, {"p": [5]}, jobs=1, cache=tmp_path)
    files = list((tmp_path / CLAIM).glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["key"] == r["points"][0]["key"]
    assert sweep(claim, {"p": [5]}, jobs=1, cache=tmp_path)["summary"]["cached"] == 1
    files[0].write_text("{truncated")                   # unreadable: recomputed, not trusted
    assert sweep(claim, {"p": [5]}, jobs=1, cache=tmp_path)["summary"]["computed"] == 1
    import claimcheck.sweep as S

    monkeypatch.setattr(S, "_version", lambda: "999.0")  # a new claimcheck version recomputes
    assert sweep(claim, {"p": [5]}, jobs=1, cache=tmp_path)["summary"]["computed"] == 1
    assert not list(tmp_path.rglob("*.tmp"))             # atomic writes leave no temp file


def test_slurm_job_array_through_submitit_gives_the_same_verdicts(tmp_path):
    pytest.importorskip("submitit")
    claim = get_claim(CLAIM)
    grid = {"n": [20, 40], "p": [5, 60]}
    arr = sweep(claim, grid, jobs=1, cache=tmp_path / "cache",
                slurm={"executor": "debug", "folder": str(tmp_path / "submitit"), "chunk": 3})
    assert arr["summary"]["computed"] == 4 and len(list((tmp_path / "cache" / CLAIM).glob("*.json"))) == 4
    assert _verdicts(arr) == _verdicts(sweep(claim, grid, jobs=1, cache=None))
    again = sweep(claim, grid, jobs=1, cache=tmp_path / "cache", slurm={"executor": "debug", "folder": str(tmp_path / "s2")})
    assert again["summary"]["cached"] == 4                # nothing resubmitted


def test_grid_values_take_the_type_of_the_default_and_bad_grids_are_refused():
    c = get_claim(CLAIM)
    assert parse_grid(c, ["n=10:30:10", "noise=log:0.1:10:3", "signal=0.5,1"]) == {
        "n": [10, 20, 30], "noise": [0.1, 1.0, 10.0], "signal": [0.5, 1.0]}
    for spec, msg in [(["q=1"], "'q' is not a parameter of 'ridgeless.minnorm_finite'"),
                      (["n=1.5"], "n='1.5', must be an integer"), (["n=10", "n=20"], "given twice"),
                      (["n"], "must be NAME=VALUES"), (["n=3:1:1"], "STOP >= START"), (["n=1,1"], "repeated values"),
                      (["noise=log:0:1:3"], "START, STOP > 0"), ([], "grid is empty")]:
        with pytest.raises(ValueError, match=msg):
            parse_grid(c, spec)
    with pytest.raises(ValueError, match="cannot be swept from the command line"):
        parse_grid(get_claim("ridgeless.anisotropic"), ["levels=1,2"])


def test_bad_sweep_options_exit_with_a_usage_error(tmp_path, capsys):
    assert main(["sweep", "ridgeless.nope", "--grid", "n=1", "--cache", str(tmp_path)]) == EXIT_USAGE
    assert "unknown claim id 'ridgeless.nope'" in capsys.readouterr().err
    assert main(["sweep", CLAIM, "--grid", "n=20", "--size", "3", "--cache", str(tmp_path)]) == EXIT_USAGE
    assert "size='3', must be W,H" in capsys.readouterr().err
    assert main(["sweep", CLAIM, "--grid", "n=20", "--rc", "font.sise=3", "--cache", str(tmp_path)]) == EXIT_USAGE
    assert "must be KEY=VALUE with KEY a matplotlib rcParam" in capsys.readouterr().err
    with pytest.raises(ValueError, match="jobs=0, must be an integer >= 1"):
        sweep(CLAIM, {"n": [20]}, jobs=0, cache=None)


def test_relative_error_per_kind_and_the_asymptotic_formulas_error_shrinks_with_n(tmp_path):
    exact = {"prediction": 2.0, "estimate": {"mean": 2.2, "se": 0.02, "n": 10}}
    assert relative_error(exact, "exact") == pytest.approx((0.1, 0.01))  # float rounding only
    cov = {"prediction": 0.95, "estimate": {"mean": 0.97, "se": 0.003, "n": 10}}
    assert relative_error(cov, "coverage") == pytest.approx((0.02, 0.003))
    assert all(math.isnan(x) for x in relative_error(exact, "qualitative"))
    # where does the proportional-limit formula become accurate? p0 = 5 at n0 = 20, 40: gamma = 1/4, 1/8
    r = sweep("ridgeless.minnorm_asymptotic", {"n0": [20, 40], "p0": [5]}, jobs=1, cache=None)
    # the formula's relative error at the first ladder size, with its SE (from Verdict.statistic)
    (e20, s20), (e40, s40) = [relative_error(e["verdict"], "asymptotic") for e in r["points"]]
    assert abs(e20) > 4 * s20 and abs(e40) > 4 * s40        # the finite-n error is resolved at both points
    assert abs(e20) - abs(e40) > 3 * math.hypot(s20, s40)    # and it shrinks as n grows
    fig = draw_heatmap(r, color="relerr")
    assert fig.axes[0].get_xlabel() == "n0" and len(fig.axes) == 2   # one panel + colour bar
    paths = save_heatmap(r, tmp_path, color="relerr", venue="icml")
    assert [p.parent.name for p in paths] == ["icml", "icml"]          # another venue: its own folder
