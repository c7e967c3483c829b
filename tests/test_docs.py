"""The documentation site builds with Sphinx, warnings as errors (what ``make docs`` runs), the
catalogue lists every registered claim with its mutants and figure, and the tutorial's code runs."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

sys.path.insert(0, str(ROOT / "tests"))
from report_helpers import shared_dir, tiny_png  # noqa: E402

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")


def _sphinx_forked(args: list[str], env: dict, err: Path) -> int:
    """``python -m sphinx ARGS`` in a forked child of this process: a fresh Sphinx application whose
    imports, ``sys.path`` entries (conf.py), docutils registrations and torch mock die with the child,
    so nothing leaks into this test process; what it saves is the ~3 CPU s a fresh interpreter spends
    importing claimcheck, scipy and Sphinx again. Its stderr goes to ``err``; returns its exit code."""
    pid = os.fork()
    if pid == 0:                                   # the child: never returns into pytest
        code = 70
        try:
            out_fd = os.open(os.devnull, os.O_WRONLY)
            err_fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            sys.stdout = open(1, "w", closefd=False)
            sys.stderr = open(2, "w", closefd=False)
            os.environ.clear()
            os.environ.update(env)
            from sphinx.cmd.build import build_main

            code = build_main(args)
        except BaseException:                      # noqa: BLE001  (reported in err, exit 70)
            import traceback

            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _build(folder: Path) -> None:
    tiny_png(folder / "figures" / "double_descent_samplewise.png")   # the one figure the catalogue finds and embeds
    env = {**os.environ, "CLAIMCHECK_DOCS_FIGURES": str(folder / "figures")}
    args = ["-E", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(folder / "html")]
    # Forked where it is the same build as a fresh interpreter's: torch and the GPU suite not yet
    # imported here (autodoc must find torch mocked, as `make docs` does; a fork also copies no
    # torch threads). Otherwise, and where there is no fork, the command `make docs` runs.
    loaded = [m for m in sys.modules if m == "torch" or m.startswith(("torch.", "claimcheck.gpu_validation"))]
    if hasattr(os, "fork") and not loaded:
        import claimcheck.registry
        import sphinx.application  # noqa: F401  (imported once, here, for this process and the child)
        import sphinx.ext.autodoc  # noqa: F401

        claimcheck.registry.claim_ids()        # the catalogue, which the tests below load anyway
        # The scipy modules behind claimcheck's lazy stand-ins (claimcheck._lazy): autodoc reads their
        # attributes, so the child imported them (~1.5 CPU s) and this process then imported them again
        # for the tutorial test; imported once here, before the fork, both use the same modules.
        import scipy.integrate, scipy.linalg, scipy.optimize, scipy.special, scipy.stats  # noqa: E401, F401
        returncode = _sphinx_forked(args, env, folder / "stderr.txt")
        stderr = (folder / "stderr.txt").read_text(encoding="utf-8", errors="replace")
    else:
        res = subprocess.run([sys.executable, "-m", "sphinx", *args], capture_output=True, text=True, env=env,
                             timeout=600)
        returncode, stderr = res.returncode, res.stderr
    (folder / "build.json").write_text(json.dumps({"returncode": returncode, "stderr": stderr}))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once per test session (also when xdist workers split this module)."""
    folder = shared_dir(tmp_path_factory, "docs-site", _build)
    res = json.loads((folder / "build.json").read_text())
    return folder / "html", SimpleNamespace(**res)


def test_docs_build_without_a_warning(site):
    html, res = site
    assert res.returncode == 0 and "WARNING" not in res.stderr and "ERROR" not in res.stderr, res.stderr[-3000:]
    for page in ("index", "quickstart", "tutorial", "reports", "catalogue", "gpu", "api", "readme", "changelog", "license"):
        assert (html / f"{page}.html").is_file(), page


def test_catalogue_is_generated_from_the_registry(site):
    import claimcheck

    html, _ = site
    page = (html / "catalogue.html").read_text(encoding="utf-8")
    for c in claimcheck.all_claims():
        assert f'id="claim-{c.id.replace(".", "-").replace("_", "-")}"' in page or c.id in page, c.id
        for m in c.mutants:
            assert m.name in page, (c.id, m.name)
    assert page.count("double_descent_samplewise.png") >= 2            # the two claims it illustrates
    assert list((html / "_images").glob("double_descent_samplewise*.png"))


def test_api_reference_has_the_docstrings_with_their_math(site):
    html, _ = site
    page = (html / "api.html").read_text(encoding="utf-8")
    for name in ("min_norm_risk_finite", "mcallester_bound", "Claim", "exact_test", "verify_table", "sweep",
                 "package_versions", "venue_dir"):
        assert f'id="claimcheck.' in page and name in page, name
    assert re.search(r'<div class="math[^"]*">\s*\\\[', page)            # display math from the docstrings


def test_tutorial_code_runs_as_written():
    text = (DOCS / "tutorial.rst").read_text(encoding="utf-8")
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    assert len(blocks) >= 5
    code = "\n".join("\n".join(line[4:] for line in b.splitlines()) for b in blocks)
    ns: dict = {"__name__": "tutorial"}
    import claimcheck.registry as registry

    registry.claim_ids()                    # load the catalogue first: what is restored must include it
    saved = dict(registry._REGISTRY)
    try:
        exec(compile(code, "docs/tutorial.rst", "exec"), ns)
        ns["test_uniform_mean"]()
        ns["test_uniform_mean_at_the_domain_edges"]()
        assert ns["result"]["summary"]["points"] == 3 and ns["result"]["summary"]["passed"] == 3
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)


def test_catalogue_shows_a_claim_on_measured_results_with_its_checks_kind_and_evidence(tmp_path):
    """Generic: any ``evidence="measurement"`` claim (the GPU jobs' gpu.* ones among them) gets its
    check's kind, its rule, an Evidence line and its mutants; a simulated claim gets no Evidence line."""
    import importlib.util

    import claimcheck.registry as registry

    sys.path.insert(0, str(ROOT / "tests"))
    from report_helpers import MEASURED_ID, measured_claim

    spec = importlib.util.spec_from_file_location("claimcheck_docs_catalogue", DOCS / "_ext" / "catalogue.py")
    cat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cat)
    registry.claim_ids()                    # load the catalogue first: what is restored must include it
    saved = dict(registry._REGISTRY)
    try:
        module, _ = measured_claim(tmp_path)
        assert registry.load_claims(str(module)) == [MEASURED_ID]
        text = "\n".join(cat.catalogue_rst(None, str(DOCS)))
        measured = len(registry.all_claims(evidence="measurement"))     # this one, and gpu.* where registered
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)
    section = text.split(f"``{MEASURED_ID}``\n", 1)[1].split("\n``", 1)[0]
    assert ":Kind: ci_threshold" in section and ":class:`~claimcheck.checks.ThresholdCI` (alpha = 0.05)" in section
    assert f":Evidence: measurement: decided on measured results, not simulated (``claimcheck verify {MEASURED_ID}``" in section
    assert "- ``no_gap``: the gap is -0.1 on every seed" in section
    assert f"; {measured} of them decided on measured results" in text.splitlines()[0]
    simulated = text.split("``ridgeless.minnorm_finite``\n", 1)[1].split("\n``", 1)[0]
    assert ":Evidence:" not in simulated and ":Domain: ``n`` integer >= 8 and <= 120" in simulated
