"""``claimcheck gpu`` (parser + runner, built here into a plain argparse parser) and the
submitit launcher (debug executor: the tasks run in this process)."""
from __future__ import annotations

import argparse
import json

import pytest

torch = pytest.importorskip("torch")

from claimcheck.gpu_validation import JOBS  # noqa: E402
from claimcheck.gpu_validation.cli import add_parser, run_cli  # noqa: E402

FAST_RVI = ["--set", "steps=20", "--set", "n_test=256", "--set", "hidden=(16,)", "--set", "n_evals=3", "--no-figures"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _parse(argv):
    p = argparse.ArgumentParser(prog="claimcheck")
    add_parser(p.add_subparsers(dest="command", required=True))
    return p.parse_args(argv)


def test_parser_reads_every_option():
    a = _parse(["gpu", "deep_double_descent", "--profile", "small", "--seed", "3", "--device", "cpu", "--out", "x",
                "--resume", "--data-dir", "d", "--set", "epochs=2", "--slurm", "--partition", "gpu", "--shards", "4"])
    assert (a.command, a.job, a.profile, a.seed, a.device, str(a.out), a.resume, a.data_dir) == \
        ("gpu", "deep_double_descent", "small", 3, "cpu", "x", True, "d")
    assert a.set == ["epochs=2"] and a.slurm and a.partition == "gpu" and a.shards == 4
    with pytest.raises(SystemExit):
        _parse(["gpu", "real_vs_ideal", "--seed", "-1"])


def test_gpu_subcommand_plugs_into_the_claimcheck_parser(capsys):
    from claimcheck import cli

    p = cli._parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    if "gpu" not in sub.choices:  # until claimcheck/cli.py wires it in itself
        add_parser(sub)
    assert run_cli(p.parse_args(["gpu", "list"])) == 0
    assert "deep_double_descent" in capsys.readouterr().out


def test_the_cli_module_imports_without_torch():
    import subprocess
    import sys

    code = "import sys, claimcheck.gpu_validation.cli; assert 'torch' not in sys.modules, 'torch imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_gpu_list_shows_every_job(capsys):
    assert run_cli(_parse(["gpu", "list"])) == 0
    out = capsys.readouterr().out
    assert all(job in out for job in JOBS) and "smoke" in out and "full" in out
    from claimcheck.gpu_validation.cli import _TIMES

    assert set(_TIMES) == set(JOBS), "every job needs its expected times in gpu_validation/cli.py"


@pytest.mark.parametrize("argv, message", [
    (["gpu", "resnet"], "unknown GPU job 'resnet'; choose one of: list, deep_double_descent"),
    (["gpu", "real_vs_ideal", "--profile", "medium"], "unknown profile 'medium'; choose one of: smoke, cpu, small, full"),
    (["gpu", "real_vs_ideal", "--set", "nonsense=1"], "unknown config field(s) ['nonsense']"),
])
def test_usage_errors_list_the_choices(argv, message, capsys, tmp_path):
    assert run_cli(_parse(argv + ["--out", str(tmp_path)])) == 2
    assert message in capsys.readouterr().err


def test_missing_dataset_exits_2_and_says_where_to_put_it(capsys, tmp_path):
    code = run_cli(_parse(["gpu", "pac_bayes_mnist", "--device", "cpu", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path)]))
    assert code == 2
    err = capsys.readouterr().err
    assert "dataset not found" in err and "t10k-images-idx3-ubyte" in err and "nothing is downloaded" in err


def test_cli_runs_a_smoke_job_and_writes_its_result(capsys, tmp_path):
    code = run_cli(_parse(["gpu", "real_vs_ideal", "--device", "cpu", "--out", str(tmp_path), *FAST_RVI]))
    out = capsys.readouterr().out
    res = json.loads((tmp_path / "real_vs_ideal-smoke-seed0" / "result.json").read_text())
    assert code == {"passed": 0, "failed": 1, "underpowered": 3}[res["verdict"]["status"]]
    assert "gpu.real_vs_ideal.soft_error_gap" in out and "samples/s" in out and res["config"]["steps"] == 20


def test_interrupted_cli_run_exits_4_and_resumes(capsys, tmp_path):
    base = ["gpu", "real_vs_ideal", "--device", "cpu", "--out", str(tmp_path), *FAST_RVI, "--set", "ckpt_every=5"]
    assert run_cli(_parse(base + ["--set", "stop_after_steps=33"])) == 4
    assert "continue with --resume" in capsys.readouterr().err
    assert run_cli(_parse(base + ["--resume"])) in (0, 1, 3)
    res = json.loads((tmp_path / "real_vs_ideal-smoke-seed0" / "result.json").read_text())
    assert res["timings"]["units_resumed"] == ["real-seed0"]


def test_submitit_sharded_sweep_collects_the_same_verdict(tmp_path):
    """A sweep launched as a job array of 2 shards x 1 seed (debug executor) and collected
    gives the result of a plain run, unit for unit."""
    pytest.importorskip("submitit")
    from claimcheck.gpu_validation import launch, real_vs_ideal

    over = {"steps": 20, "n_test": 256, "hidden": (16,), "n_evals": 3}
    jobs = launch.submit("real_vs_ideal", "smoke", seeds=[0], shards=2, out_dir=tmp_path / "array", executor="debug",
                         device="cpu", overrides=over)
    assert len(jobs) == 2
    parts = launch.wait(jobs)
    # the first shard leaves half the units to the other one (no verdict); the last one to run may
    # find everything done (the debug executor runs them one after the other)
    assert parts[0]["partial"] and parts[0]["verdict"] is None and parts[0]["shard"] == [0, 2]
    (collected,) = launch.collect("real_vs_ideal", "smoke", [0], tmp_path / "array", overrides=over)
    assert collected["timings"]["steps"] == 0  # nothing retrained
    plain = real_vs_ideal.run("smoke", device="cpu", out_dir=tmp_path / "plain", progress=False, figures=False, **over)
    assert collected["measurements"] == plain["measurements"] and collected["verdict"] == plain["verdict"]
    with pytest.raises(ValueError, match="executor='pbs'"):
        launch.submit("real_vs_ideal", "smoke", executor="pbs", out_dir=tmp_path)


def test_measure_script_records_device_time_throughput_and_verdict(tmp_path, capsys):
    from claimcheck.gpu_validation import measure_small

    code = measure_small.main(["--jobs", "real_vs_ideal", "--profile", "smoke", "--device", "cpu", "--out", str(tmp_path)])
    assert code == 0
    doc = json.loads((tmp_path / "measure-smoke.json").read_text())
    (rec,) = doc["records"]
    assert rec["job"] == "real_vs_ideal" and rec["device"]["type"] == "cpu" and rec["samples_per_s"] > 0
    assert rec["status"] in ("passed", "failed", "underpowered") and rec["mfu"] is None
    assert "| real_vs_ideal |" in (tmp_path / "measure-smoke.md").read_text()
    assert measure_small.main(["--jobs", "nope", "--out", str(tmp_path)]) == 2


def test_slurm_executor_gets_one_gpu_per_task_and_the_partition(tmp_path, monkeypatch):
    """Configure (not submit) the SLURM executor; a stub ``srun`` stands in for the cluster."""
    pytest.importorskip("submitit")
    import os
    import stat

    from claimcheck.gpu_validation import launch

    srun = tmp_path / "bin" / "srun"
    srun.parent.mkdir()
    srun.write_text("#!/bin/sh\nexit 0\n")
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{srun.parent}{os.pathsep}{os.environ['PATH']}")
    ex = launch.make_executor("claimcheck-x", "slurm", tmp_path / "sub", timeout_min=90, slurm_partition="gpu", account="abc")
    params = ex._executor.parameters
    assert params["partition"] == "gpu" and params["time"] == 90 and params["account"] == "abc"
    assert params["gpus_per_node"] == 1 and params["array_parallelism"] == 64


def test_help_documents_every_exit_code_and_threads():
    p = argparse.ArgumentParser(prog="claimcheck")
    g = add_parser(p.add_subparsers(dest="command", required=True))
    text = g.format_help()
    for code in ("0 passed", "1 failed", "2 usage error", "3 underpowered", "4 interrupted", "5 runtime failure"):
        assert code in text, code
    assert "--threads" in text
    assert _parse(["gpu", "real_vs_ideal", "--threads", "1"]).threads == 1
    with pytest.raises(SystemExit):
        _parse(["gpu", "real_vs_ideal", "--threads", "0"])


def test_a_job_that_breaks_while_running_exits_5_not_2(capsys, tmp_path, monkeypatch):
    """A runtime failure (here: the crash a shape bug causes inside a unit) is not a usage error."""
    from claimcheck.gpu_validation import real_vs_ideal

    def broken(ctx, unit):
        raise ValueError("step 31: members gave batches of sizes [32, 128, 32, 128], must be equal")

    monkeypatch.setattr(real_vs_ideal, "train_unit", broken)
    code = run_cli(_parse(["gpu", "real_vs_ideal", "--device", "cpu", "--out", str(tmp_path), *FAST_RVI]))
    err = capsys.readouterr().err
    assert code == 5 and "runtime failure" in err and "unit real-seed0" in err and "Traceback" in err
    # a bad value is still a usage error
    assert run_cli(_parse(["gpu", "real_vs_ideal", "--device", "cpu", "--out", str(tmp_path / "u"), *FAST_RVI,
                           "--set", "source='tape'"])) == 2
