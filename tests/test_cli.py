"""The command line: list, verify (table, JSON report, exit codes), figures, clear usage errors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import strategies as st

from claimcheck.checks import Exact
from claimcheck import Claim, Estimate, Mutant, registry
from claimcheck.cli import EXIT_FAILED, EXIT_OK, EXIT_UNDERPOWERED, EXIT_USAGE, main


def test_list_shows_every_claim(capsys):
    assert main(["list"]) == EXIT_OK
    out = capsys.readouterr().out
    for cid in registry.claim_ids():
        assert cid in out


def test_list_long_shows_statement_source_and_mutants(capsys):
    assert main(["list", "--long"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "statement:" in out and "mutants:" in out and "Hastie" in out


def test_verify_prints_table_and_writes_json_report(tmp_path, capsys):
    report = tmp_path / "sub" / "report.json"
    code = main(["verify", "ridgeless.minnorm_finite", "--budget", "quick", "--seed", "3", "--json", str(report)])
    out = capsys.readouterr().out
    assert code == EXIT_OK
    for col in ("claim (kind) / parameters", "statistic", "verdict", "ridgeless.minnorm_finite (exact)", "PASSED"):
        assert col in out
    data = json.loads(report.read_text())
    assert data["seed"] == 3 and data["budget"] == "quick"
    assert data["summary"]["passed"] == len(data["verdicts"]) >= 1
    assert {"prediction", "estimate", "z", "params", "seed", "detail"} <= set(data["verdicts"][0])
    assert [p.name for p in report.parent.iterdir()] == ["report.json"]  # no temp file left
    # what a report needs: the claim's title, statement, source and kind; versions; git dirty flag; machine
    meta = data["claims"]["ridgeless.minnorm_finite"]
    claim = registry.get_claim("ridgeless.minnorm_finite")
    assert (meta["title"], meta["statement"], meta["source"], meta["kind"]) == (claim.title, claim.statement, claim.source, "exact")
    assert [m["name"] for m in meta["mutants"]] == [m.name for m in claim.mutants]
    env = data["environment"]
    assert env["versions"]["numpy"] and env["versions"]["scipy"] and env["versions"]["sympy"]
    assert set(env["versions"]) >= {"matplotlib", "hypothesis", "torch"}
    assert env["machine"]["cpus"] >= 1 and env["git"]["dirty"] in (True, False, None)
    assert data["git_dirty"] == env["git"]["dirty"]


def test_verify_table_fits_a_100_column_terminal_and_prints_each_kinds_statistic(capsys):
    claims = ["ridgeless.minnorm_finite", "ridgeless.minnorm_asymptotic", "pac_bayes.coverage",
              "pac_bayes.kl_bound_ordering", "distributional.dp_implies_dg", "ridgeless.optimal_ridge_monotone"]
    assert main(["verify", *claims, "--budget", "quick", "--mutants"]) == EXIT_OK
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    table = out.split("mutation tests")[0]
    coverage = table.split("pac_bayes.coverage (coverage)")[1].split("pac_bayes.kl_bound_ordering")[0]
    assert "95% lower bound" in coverage and "vs 1−δ = 0.95" in coverage and " z " not in coverage
    deterministic = table.split("pac_bayes.kl_bound_ordering (deterministic)")[1].split("distributional")[0]
    assert "deterministic: holds at all" in deterministic and "inf" not in deterministic and "∞" not in deterministic
    assert "limit 1 vs extrapolated" in table and "rate n^−" in table          # asymptotic
    assert "≤ bound" in table and "margin" in table                            # bound
    assert "ridgeless.optimal_ridge_monotone (monotone)" in table and "steps down, weakest step z" in table   # monotone


def test_verify_same_seed_same_report_in_one_process_or_two(tmp_path):
    """Same seed, same report bit for bit, and --jobs 2 (checks and mutants in two worker
    processes, finishing in any order) gives the report of --jobs 1, in the same order."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    args = ["verify", "ridgeless.ridge_asymptotic", "ridgeless.minnorm_finite", "--budget", "quick", "--mutants"]
    assert main(args + ["--json", str(a)]) == EXIT_OK
    assert main(args + ["--jobs", "2", "--json", str(b)]) == EXIT_OK
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    assert len(ra["verdicts"]) >= 4 and len(ra["mutants"]) >= 2
    assert ra["verdicts"] == rb["verdicts"] and ra["mutants"] == rb["mutants"]


def test_verify_accepts_family_prefix(capsys):
    assert main(["verify", "ridgeless.optimal_ridge", "--budget", "quick"]) == EXIT_USAGE  # not a family
    assert "unknown claim id 'ridgeless.optimal_ridge'" in capsys.readouterr().err


def test_verify_mutants_reports_each_rejection(capsys):
    assert main(["verify", "ridgeless.minnorm_asymptotic", "--budget", "quick", "--mutants"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "mutation tests" in out and "no_bias_term" in out and " NO " not in out


def test_unknown_claim_lists_valid_ids(capsys):
    assert main(["verify", "ridgeless.nope"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "unknown claim id 'ridgeless.nope'" in err and "ridgeless.minnorm_finite" in err


@pytest.mark.parametrize("argv, needle", [
    (["verify", "--budget", "huge"], "choose from 'quick', 'standard', 'thorough'"),
    (["verify", "--seed", "-4"], "seed=-4, must be >= 0"),
    (["verify", "--seed", "abc"], "invalid int value"),
    (["frobnicate"], "invalid choice"),
    (["figures", "--venue", "nips", "ridgeless.minnorm_finite"], "venue='nips', must be one of"),
])
def test_bad_options_give_clear_messages(argv, needle, capsys, tmp_path):
    if argv[0] == "figures":
        argv = argv + ["--out", str(tmp_path)]
    with pytest.raises(SystemExit) if argv[0] != "figures" else _nullcontext():
        code = main(argv)
        assert code == EXIT_USAGE
    assert needle in capsys.readouterr().err


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _toy(mean, reps):
    return Claim(id="toy.mean", title="toy", statement="x", source="test", check=Exact(),
                 predict=lambda: 0.5, domain=st.just({}), default={},
                 simulate=lambda params, n, rng: Estimate.from_samples(rng.uniform(0, 2 * mean, n)), reps=reps,
                 mutants=(Mutant("m", "m", lambda: 1.0),))


@pytest.mark.parametrize("mean, reps, expected", [(0.5, 20000, EXIT_OK), (0.6, 20000, EXIT_FAILED), (0.5, 4, EXIT_UNDERPOWERED)])
def test_exit_code_reflects_verdicts(monkeypatch, mean, reps, expected, capsys):
    monkeypatch.setattr(registry, "_REGISTRY", {"toy.mean": _toy(mean, reps)})
    monkeypatch.setattr(registry, "_loaded", True)
    assert main(["verify", "--budget", "quick"]) == expected
    out = capsys.readouterr().out
    if expected != EXIT_OK:
        assert "reproduce:" in out  # non-passing verdicts are printed in full


@pytest.fixture(scope="module")
def serial_figures(tmp_path_factory):
    """``claimcheck figures`` one by one (``--jobs 1``) for the double-descent claim, in its own
    folder, and for two claims of two other figures in another: the single-figure test's files
    and, together, the reference of the parallel test (``--jobs 1`` makes each figure with its
    own ``make_all`` call, so two runs give the bytes of one run of all three). Returns
    ``{folder: printed paths}``."""
    import contextlib
    import io

    out = {}
    for name, claims in (("samplewise", ["ridgeless.samplewise_nonmonotone"]),
                         ("rest", ["ridgeless.anisotropic", "distributional.dp_implies_dg"])):
        folder = tmp_path_factory.mktemp(f"serial_{name}")
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["figures", *claims, "--out", str(folder)]) == EXIT_OK
        out[folder] = buf.getvalue().split()
    return out


def test_figures_writes_pdf_and_png_for_selected_claims(serial_figures):
    folder, printed = next(iter(serial_figures.items()))
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["double_descent_samplewise.pdf", "double_descent_samplewise.png"]
    assert sorted(Path(p).name for p in printed) == names


def test_figures_in_parallel_processes_write_the_same_files_in_registry_order(tmp_path, capsys, monkeypatch,
                                                                              serial_figures):
    from claimcheck import paper_figures

    # the three cheapest figures; two of them stand in for the torch figures, which one worker makes in turn
    claims = ["ridgeless.optimal_ridge_monotone", "ridgeless.anisotropic", "distributional.dp_implies_dg"]
    monkeypatch.setattr(paper_figures, "TORCH_FIGURES", ("double_descent_samplewise", "dp_generalization"))
    assert paper_figures.process_groups(paper_figures.figures_for_claims(claims)) == [
        ["double_descent_samplewise", "dp_generalization"], ["ridgeless_anisotropic"]]
    # the --jobs 1 files of these claims (registry order: samplewise, anisotropic, dp_generalization)
    serial = [p for paths in serial_figures.values() for p in paths]
    assert [Path(p).stem for p in serial[::2]] == paper_figures.figures_for_claims(claims)
    assert main(["figures", *claims, "--out", str(tmp_path / "two"), "--jobs", "2"]) == EXIT_OK
    parallel = capsys.readouterr().out.split()
    assert [Path(p).name for p in parallel] == [Path(p).name for p in serial]   # same files, same order
    assert all(Path(p).parent == tmp_path / "two" for p in parallel)
    for path, ref in zip(parallel, serial):
        assert Path(path).read_bytes() == Path(ref).read_bytes(), path


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_figures_rejects_a_bad_process_count(jobs, capsys):
    with pytest.raises(SystemExit) as err:
        main(["figures", "--jobs", jobs])
    assert err.value.code == 2 and "must be an integer >= 1" in capsys.readouterr().err


def test_console_script_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "claimcheck.cli", "list"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ridgeless.minnorm_finite" in out.stdout


def test_json_report_with_mutants_stays_strict_json_when_a_z_is_infinite(tmp_path, monkeypatch):
    # a mutant whose simulation has zero spread gives z = -inf; the report must still be valid JSON
    toy = Claim(id="toy.const", title="t", statement="x", source="test", check=Exact(), predict=lambda: 1.0,
                domain=st.just({}), default={}, simulate=lambda params, n, rng: Estimate(1.0, 0.0, n), reps=10,
                mutants=(Mutant("two", "2", lambda: 2.0),))
    monkeypatch.setattr(registry, "_REGISTRY", {"toy.const": toy})
    monkeypatch.setattr(registry, "_loaded", True)
    report = tmp_path / "r.json"
    assert main(["verify", "--mutants", "--json", str(report)]) == EXIT_OK
    data = json.loads(report.read_text())
    assert data["mutants"][0]["rejected"] and data["mutants"][0]["z"] == "-inf"
