"""The library as users install it: one import name, a core without torch, data that travel,
third-party claims, the pytest plugin.

Subprocesses run from temporary folders, never the repository root, so nothing here can pass by
importing the source tree's top-level folders (``theory/``, ``sims/``, ...) by accident.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
from no_gpu_extra import GPU_ONLY, NO_GPU_EXTRA  # noqa: E402  (a core-only install in a subprocess)


def _run(code: str, cwd: Path, env_extra: dict | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _cli(args: list[str], cwd: Path, *, no_gpu: bool = False, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    code = (NO_GPU_EXTRA if no_gpu else "") + f"import sys\nfrom claimcheck.cli import main\nsys.exit(main({args!r}))\n"
    return _run(code, cwd, env_extra)


def _clis(argvs: list[list[str]], cwd: Path, *, no_gpu: bool = False, env_extra: dict | None = None) -> list[subprocess.CompletedProcess]:
    """Several ``claimcheck ARGV`` commands, one after the other, in one fresh interpreter of the
    same installation (each with its own stdout/stderr and exit code): one import instead of one
    per command."""
    code = (NO_GPU_EXTRA if no_gpu else "") + textwrap.dedent(f"""
        import contextlib, io, json, sys
        from claimcheck.cli import main
        results = []
        for argv in {argvs!r}:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:
                    code = exc.code
            results.append([code, out.getvalue(), err.getvalue()])
        sys.__stdout__.write("\\n" + json.dumps(results) + "\\n")
    """)
    res = _run(code, cwd, env_extra)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    return [subprocess.CompletedProcess(argv, code, out, err)
            for argv, (code, out, err) in zip(argvs, json.loads(res.stdout.strip().splitlines()[-1]))]


# --------------------------------------------------------------------------- the wheel
@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the tracked files (setuptools writes build/ into its source)."""
    src = tmp_path_factory.mktemp("src")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            (src / f).write_bytes((ROOT / f).read_bytes())
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
                   check=True, capture_output=True, timeout=300)
    (whl,) = out.glob("claimcheck-*.whl")
    return whl


def test_the_wheel_installs_exactly_one_top_level_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"claimcheck"}
    for sub in ("theory/ridgeless.py", "sims/ridgeless.py", "paper_figures/style.py", "gpu_validation/driver.py",
                "catalogue/ridgeless.py", "pytest_plugin.py"):
        assert f"claimcheck/{sub}" in names, sub
    assert not any(n.startswith(("theory/", "sims/", "tests/", "benchmarks/")) for n in names)


def test_the_wheel_ships_the_mnist_test_set_with_its_licence(wheel):
    z = zipfile.ZipFile(wheel)
    names = set(z.namelist())
    assert {"claimcheck/data/mnist/t10k-images-idx3-ubyte.gz", "claimcheck/data/mnist/t10k-labels-idx1-ubyte.gz",
            "claimcheck/data/mnist/README.md"} <= names
    assert "CC BY-SA 3.0" in z.read("claimcheck/data/mnist/README.md").decode()
    assert z.getinfo("claimcheck/data/mnist/t10k-images-idx3-ubyte.gz").file_size > 1_000_000


def test_the_core_requires_no_torch_and_the_extras_are_declared(wheel):
    z = zipfile.ZipFile(wheel)
    meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    meta = Parser().parsestr(z.read(meta_name).decode())
    requires = meta.get_all("Requires-Dist") or []
    core = {r.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in requires if "extra ==" not in r}
    assert core and not core & GPU_ONLY, core
    gpu = {r.split(">")[0].split("=")[0].strip().lower() for r in requires if "extra == \"gpu\"" in r}
    assert GPU_ONLY <= gpu, gpu
    assert {"gpu", "test", "docs"} <= set(meta.get_all("Provides-Extra"))
    eps = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "[pytest11]" in eps and "claimcheck.pytest_plugin" in eps and "claimcheck.cli:main" in eps


# --------------------------------------------------------------------------- namespace
def test_a_user_project_with_its_own_theory_and_sims_packages_uses_claimcheck(tmp_path):
    for pkg, body in (("theory", "MINE = 'theory of the user'\n"), ("sims", "MINE = 'sims of the user'\n")):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text(body)
        (tmp_path / pkg / "_validation.py").write_text("raise RuntimeError('claimcheck must not import this')\n")
    code = textwrap.dedent("""
        import theory, sims, claimcheck
        from claimcheck.theory.ridgeless import min_norm_risk_finite
        from claimcheck.sims.ridgeless import fast_risk_samples
        assert theory.MINE == 'theory of the user' and sims.MINE == 'sims of the user'
        assert abs(min_norm_risk_finite(100, 50, 1.0, 1.0) - 50 / 49) < 1e-12
        v = claimcheck.get_claim('ridgeless.minnorm_finite').check(budget='quick', seed=0)
        assert v.status.value == 'passed', v
        import sys
        assert sys.modules['theory'].__file__.startswith(sys.argv[0] or '.') or 'theory of the user' == theory.MINE
        twice = [m for m in sys.modules if m.endswith('theory.ridgeless')]
        assert twice == ['claimcheck.theory.ridgeless'], twice
        print('ok')
    """)
    res = _run(code, tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


# --------------------------------------------------------------------------- a core-only install
def test_without_the_gpu_extra_verify_runs_the_mnist_claims_and_gpu_names_the_extra(tmp_path):
    # one core-only interpreter runs the three commands (the same installation; each its own exit code and output)
    res, gpu, listed = _clis([
        ["verify", "distributional.nn_calibration_real", "--budget", "quick", "--json", str(tmp_path / "r.json")],
        ["gpu", "real_vs_ideal", "--profile", "smoke"],
        ["list"]], tmp_path, no_gpu=True)
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert [v["params"]["dataset"] for v in report["verdicts"]] == ["digits", "mnist"]
    assert all(v["status"] == "passed" for v in report["verdicts"])
    assert gpu.returncode == 2
    lines = gpu.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'claimcheck[gpu]'" in lines[0] and "'torch'" in lines[0], gpu.stderr
    assert listed.returncode == 0 and "distributional.nn_calibration_real" in listed.stdout


def test_a_claim_whose_data_set_is_missing_is_skipped_loudly(tmp_path):
    empty = tmp_path / "no_mnist_here"
    empty.mkdir()
    res = _cli(["verify", "distributional.nn_calibration_real", "--budget", "quick", "--json", str(tmp_path / "r.json")],
               tmp_path, env_extra={"CLAIMCHECK_MNIST_DIR": str(empty)})
    assert res.returncode == 3, res.stdout + res.stderr   # not confirmed
    assert "SKIPPED" in res.stdout and "1 SKIPPED" in res.stdout and str(empty) in res.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["skipped"] == 1 and report["summary"]["passed"] == 1
    (skipped,) = [v for v in report["verdicts"] if v["status"] == "skipped"]
    assert skipped["params"]["dataset"] == "mnist" and "not found" in skipped["detail"]


# --------------------------------------------------------------------------- third-party claims
MY_CLAIMS = textwrap.dedent('''
    """Claims of a user's own paper."""
    from hypothesis import strategies as st
    from claimcheck import Claim, Estimate, Mutant, register
    from claimcheck.checks import Exact

    uniform_mean = register(Claim(
        id="mine.uniform_mean", title="E U(0, b) = b / 2", statement=r"\\mathbb E\\,U(0,b) = b/2",
        source="folklore", check=Exact(), predict=lambda b: b / 2,
        domain=st.builds(lambda b: {"b": b}, st.floats(0.1, 10)), default={"b": 1.0},
        simulate=lambda params, reps, rng: Estimate.from_samples(rng.uniform(0, params["b"], reps)),
        reps=20000, mutants=(Mutant("b_over_3", "b/3", lambda b: b / 3),),
    ))
''')


def _fake_distribution(site: Path, module: str) -> None:
    """An installed distribution declaring the entry point group claimcheck.claims (as pip would
    leave it: a module and a dist-info folder with entry_points.txt)."""
    (site / f"{module}.py").write_text(MY_CLAIMS)
    info = site / "my_claims_dist-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-claims-dist\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[claimcheck.claims]\nmine = {module}\n")


def test_an_installed_package_declaring_the_entry_point_has_its_claims_listed_verified_and_reproduced(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _fake_distribution(site, "my_paper_claims")
    env = {"PYTHONPATH": str(site)}
    listed, res = _clis([["list"], ["verify", "mine", "--mutants", "--json", str(tmp_path / "r.json")]], tmp_path, env_extra=env)
    assert listed.returncode == 0 and "mine.uniform_mean" in listed.stdout, listed.stderr
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    (v,) = report["verdicts"]
    assert v["claim_id"] == "mine.uniform_mean" and v["status"] == "passed"
    assert report["mutants"][0]["rejected"] is True
    line = _reproduce_line(v)
    assert line.startswith("import claimcheck; claimcheck.get_claim('mine.uniform_mean').check(")
    res2 = _run(_exec_line(line), tmp_path, env)   # a fresh interpreter finds the claim through the entry point
    assert res2.returncode == 0, res2.stderr
    assert json.loads(res2.stdout.strip().splitlines()[-1]) == {k: v[k] for k in ("status", "z", "estimate")}


def _reproduce_line(verdict_dict: dict) -> str:
    from claimcheck.verdict import Verdict

    assert verdict_dict["reproduce"] == Verdict.from_dict(verdict_dict).reproduce()
    return verdict_dict["reproduce"]


def _exec_line(line: str) -> str:
    """Python that runs a reproduce line (imports; expression) and prints the verdict's key numbers."""
    prefix, _, expr = line.rpartition("; ")
    return (f"import json\n{prefix.replace('; ', chr(10))}\nv = {expr}\n"
            "d = v.to_dict()\nprint(json.dumps({k: d[k] for k in ('status', 'z', 'estimate')}))\n")


@pytest.mark.parametrize("how", ["module", "file"])
def test_verify_module_loads_unpackaged_claims_and_their_reproduce_line_runs(tmp_path, how):
    (tmp_path / "my_claims.py").write_text(MY_CLAIMS)
    source = "my_claims" if how == "module" else str(tmp_path / "my_claims.py")
    res = _cli(["verify", "mine.uniform_mean", "--module", source, "--json", str(tmp_path / "r.json")], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    (v,) = json.loads((tmp_path / "r.json").read_text())["verdicts"]
    line = _reproduce_line(v)
    assert ("import claimcheck, my_claims" in line) if how == "module" else ("claimcheck.load_claims(" in line)
    res2 = _run(_exec_line(line), tmp_path)
    assert res2.returncode == 0, res2.stderr
    assert json.loads(res2.stdout.strip().splitlines()[-1]) == {k: v[k] for k in ("status", "z", "estimate")}


def test_verify_module_refuses_a_missing_module_with_one_line(tmp_path):
    res = _cli(["verify", "--module", "no_such_claims_module"], tmp_path)
    assert res.returncode == 2 and "no_such_claims_module" in res.stderr and "Traceback" not in res.stderr


# --------------------------------------------------------------------------- pytest plugin
def test_pytest_help_shows_the_plugin_options(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0
    for opt in ("--claimcheck-budget", "--claimcheck-seed", "--claimcheck-no-summary"):
        assert opt in res.stdout


def test_the_plugin_prints_a_verdict_table_and_hides_library_frames(tmp_path):
    (tmp_path / "test_user.py").write_text(textwrap.dedent('''
        import pytest
        from hypothesis import given, settings
        from claimcheck import get_claim
        from claimcheck.testing import assert_claim

        @pytest.mark.claim("ridgeless.minnorm_finite")
        def test_formula(claimcheck):
            assert claimcheck.budget == "quick"
            claimcheck.assert_claim("ridgeless.minnorm_finite", {"n": 80, "p": 20})

        def test_wrong_formula_fails_with_the_verdict(claimcheck):
            claimcheck.assert_claim(get_claim("ridgeless.minnorm_finite").mutate(lambda n, p, signal, noise: 2.0),
                                    {"n": 80, "p": 20})
    '''))
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--claimcheck-budget", "quick",
                          "test_user.py"], cwd=tmp_path, capture_output=True, text=True, timeout=240)
    out = res.stdout
    assert res.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "claimcheck verdicts" in out and "ridgeless.minnorm_finite" in out and "PASSED" in out and "FAILED" in out
    assert "claim does not hold" in out and "prediction" in out and "reproduce:" in out
    assert "claimcheck/testing.py" not in out and "claimcheck/claim.py" not in out   # __tracebackhide__


def test_an_unknown_claim_in_the_marker_is_a_usage_error(tmp_path):
    (tmp_path / "test_typo.py").write_text("import pytest\n@pytest.mark.claim('ridgeless.no_such')\ndef test_x():\n    pass\n")
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_typo.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 4 and "ridgeless.no_such" in (res.stdout + res.stderr)
