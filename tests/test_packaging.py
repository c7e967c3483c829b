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
_USER_PACKAGES = {"theory": "MINE = 'theory of the user'\n", "sims": "MINE = 'sims of the user'\n"}
NAMESPACE_CHECK = textwrap.dedent("""
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


def test_a_user_project_with_its_own_theory_and_sims_packages_uses_claimcheck(user_project):
    # run first in the user project's fresh interpreter (see user_project), before anything imports claimcheck
    ran = user_project["fresh_runs"]["namespace"]
    assert "error" not in ran, ran.get("error")
    assert ran["stdout"].strip() == "ok"


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


def test_a_claim_whose_data_set_is_missing_is_skipped_loudly(tmp_path, monkeypatch, capsys):
    # in-process (the process is not under test; the core-only install above is): the data
    # directory is read at call time, and the split cache is emptied so an MNIST split another
    # test loaded in this process cannot stand in for the missing files
    from claimcheck.cli import main
    from claimcheck.sims import distributional

    empty = tmp_path / "no_mnist_here"
    empty.mkdir()
    monkeypatch.setenv("CLAIMCHECK_MNIST_DIR", str(empty))
    monkeypatch.setattr(distributional, "_SPLITS", {})
    code = main(["verify", "distributional.nn_calibration_real", "--budget", "quick", "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 3, out   # not confirmed
    assert "SKIPPED" in out and "1 SKIPPED" in out and str(empty) in out
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


def _claims_named(family: str) -> str:
    """MY_CLAIMS with the claim id ``FAMILY.uniform_mean``: the entry point, ``--module NAME`` and
    ``--module PATH`` cases share one interpreter, where ids are unique."""
    return MY_CLAIMS.replace('id="mine.uniform_mean"', f'id="{family}.uniform_mean"')


@pytest.fixture(scope="module")
def user_project(tmp_path_factory) -> dict:
    """A user's project, in one installation: its own top-level ``theory`` and ``sims`` packages
    (whose ``_validation`` raises if imported), and the three ways its claims reach claimcheck:
    an installed distribution declaring the entry point (``site`` on PYTHONPATH, family
    ``mine``), ``--module my_claims`` from the current folder (``mymod``) and ``--module
    path/to/file.py`` (``myfile``). One interpreter runs the commands (list, verify); a second,
    fresh one runs the namespace check first (before anything imports claimcheck), then the three
    reproduce lines, each in its own namespace with its own error capture. Nothing but a line's
    own prefix imports ``my_claims`` or loads the file (the entry point is the only other source
    of claims), so a line that lost its import or load still fails. Two interpreters instead of seven."""
    tmp = tmp_path_factory.mktemp("user_project")
    for pkg, body in _USER_PACKAGES.items():
        (tmp / pkg).mkdir()
        (tmp / pkg / "__init__.py").write_text(body)
        (tmp / pkg / "_validation.py").write_text("raise RuntimeError('claimcheck must not import this')\n")
    site = tmp / "site"
    site.mkdir()
    _fake_distribution(site, "my_paper_claims")
    (tmp / "my_claims.py").write_text(_claims_named("mymod"))
    (tmp / "papers").mkdir()
    (tmp / "papers" / "my_claims.py").write_text(_claims_named("myfile"))
    env = {"PYTHONPATH": str(site)}
    reports = {how: tmp / f"{how}.json" for how in ("entry_point", "module", "file")}
    listed, *runs = _clis([
        ["list"],
        ["verify", "mine", "--mutants", "--json", str(reports["entry_point"])],
        ["verify", "mymod.uniform_mean", "--module", "my_claims", "--json", str(reports["module"])],
        ["verify", "myfile.uniform_mean", "--module", str(tmp / "papers" / "my_claims.py"), "--json", str(reports["file"])],
    ], tmp, env_extra=env)
    out = {"listed": listed}
    for how, res in zip(reports, runs):
        out[how] = {"res": res, "report": json.loads(reports[how].read_text()) if res.returncode == 0 else None}
    lines = {how: _reproduce_line(out[how]["report"]["verdicts"][0]) for how in reports if out[how]["report"]}
    sources = {"namespace": NAMESPACE_CHECK, **{how: _exec_line(line) for how, line in lines.items()}}
    code = textwrap.dedent(f"""
        import contextlib, io, json, sys, traceback
        results = {{}}
        for name, src in {sources!r}.items():
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    exec(src, {{}})
                results[name] = {{"stdout": out.getvalue()}}
            except Exception:
                results[name] = {{"stdout": out.getvalue(), "error": traceback.format_exc()}}
        sys.__stdout__.write("\\n" + json.dumps(results) + "\\n")
    """)
    fresh = _run(code, tmp, env)   # a fresh interpreter finds each claim through its own line
    assert fresh.returncode == 0, fresh.stdout[-2000:] + fresh.stderr
    out["fresh_runs"] = json.loads(fresh.stdout.strip().splitlines()[-1])
    for how, line in lines.items():
        ran = out["fresh_runs"][how]
        out[how]["line"] = line
        out[how]["reproduced"] = ran if "error" in ran else json.loads(ran["stdout"].strip().splitlines()[-1])
    return out


def test_an_installed_package_declaring_the_entry_point_has_its_claims_listed_verified_and_reproduced(user_project):
    listed, res, report = user_project["listed"], user_project["entry_point"]["res"], user_project["entry_point"]["report"]
    assert listed.returncode == 0 and "mine.uniform_mean" in listed.stdout, listed.stderr
    assert res.returncode == 0, res.stdout + res.stderr
    (v,) = report["verdicts"]
    assert v["claim_id"] == "mine.uniform_mean" and v["status"] == "passed"
    assert report["mutants"][0]["rejected"] is True
    assert "error" not in user_project["entry_point"]["reproduced"], user_project["entry_point"]["reproduced"]["error"]
    line = user_project["entry_point"]["line"]
    assert line.startswith("import claimcheck; claimcheck.get_claim('mine.uniform_mean').check(")
    assert user_project["entry_point"]["reproduced"] == {k: v[k] for k in ("status", "z", "estimate")}


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
def test_verify_module_loads_unpackaged_claims_and_their_reproduce_line_runs(user_project, how):
    res, report = user_project[how]["res"], user_project[how]["report"]
    assert res.returncode == 0, res.stdout + res.stderr
    (v,) = report["verdicts"]
    assert v["claim_id"] == f"my{'mod' if how == 'module' else 'file'}.uniform_mean" and v["status"] == "passed"
    assert "error" not in user_project[how]["reproduced"], user_project[how]["reproduced"]["error"]
    line = user_project[how]["line"]
    assert ("import claimcheck, my_claims" in line) if how == "module" else ("claimcheck.load_claims(" in line)
    assert user_project[how]["reproduced"] == {k: v[k] for k in ("status", "z", "estimate")}


def test_verify_module_refuses_a_missing_module_with_one_line(tmp_path, monkeypatch, capsys):
    # in-process: the refusal is argument handling, not the process (sys.path restored afterwards:
    # --module puts the current folder on it)
    from claimcheck.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    code = main(["verify", "--module", "no_such_claims_module"])
    err = capsys.readouterr().err
    assert code == 2 and "no_such_claims_module" in err and "Traceback" not in err


# --------------------------------------------------------------------------- pytest plugin
_USER_TESTS = textwrap.dedent('''
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
''')


@pytest.fixture(scope="module")
def pytest_runs(tmp_path_factory) -> dict:
    """Three pytest sessions of the installed plugin (loaded through its pytest11 entry point by
    each session): ``--help``, a test file naming an unknown claim, a user's claim tests. They run
    one after the other in one fresh interpreter (``pytest.main``, as ``python -m pytest`` calls
    it; the plugin restores its settings at the end of a session), each with its own exit code and
    terminal output: one pytest and hypothesis import instead of three."""
    tmp = tmp_path_factory.mktemp("plugin")
    (tmp / "test_user.py").write_text(_USER_TESTS)
    (tmp / "test_typo.py").write_text("import pytest\n@pytest.mark.claim('ridgeless.no_such')\ndef test_x():\n    pass\n")
    sessions = {"help": ["--help"],
                "typo": ["-q", "-p", "no:cacheprovider", "test_typo.py"],
                "user": ["-q", "-p", "no:cacheprovider", "--claimcheck-budget", "quick", "test_user.py"]}
    code = textwrap.dedent(f"""
        import contextlib, io, json, sys
        import pytest
        results = {{}}
        for name, args in {sessions!r}.items():
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                code = pytest.main(args)
            results[name] = [int(code), out.getvalue()]
        sys.__stdout__.write("\\n" + json.dumps(results) + "\\n")
    """)
    res = _run(code, tmp)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    return {name: subprocess.CompletedProcess(args, *json.loads(res.stdout.strip().splitlines()[-1])[name])
            for name, args in sessions.items()}


def test_pytest_help_shows_the_plugin_options(pytest_runs):
    res = pytest_runs["help"]
    assert res.returncode == 0
    for opt in ("--claimcheck-budget", "--claimcheck-seed", "--claimcheck-no-summary"):
        assert opt in res.stdout


def test_the_plugin_prints_a_verdict_table_and_hides_library_frames(pytest_runs):
    out = pytest_runs["user"].stdout
    assert pytest_runs["user"].returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "claimcheck verdicts" in out and "ridgeless.minnorm_finite" in out and "PASSED" in out and "FAILED" in out
    assert "claim does not hold" in out and "prediction" in out and "reproduce:" in out
    assert "claimcheck/testing.py" not in out and "claimcheck/claim.py" not in out   # __tracebackhide__


def test_an_unknown_claim_in_the_marker_is_a_usage_error(pytest_runs):
    res = pytest_runs["typo"]
    assert res.returncode == 4 and "ridgeless.no_such" in res.stdout
