"""The README's Python examples run as written (a user copies them)."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_worked_examples():
    assert len(BLOCKS) >= 2


def test_readme_property_test_example_runs_and_its_mutant_is_rejected():
    ns: dict = {}
    exec(compile(BLOCKS[0], "README.md[0]", "exec"), ns)
    ns["test_min_norm_risk_formula_holds"]()  # hypothesis runs the examples; raises on failure
    ns["test_check_rejects_the_classic_off_by_one"]()


def test_readme_custom_claim_example_passes(capsys):
    ns: dict = {}
    exec(compile(BLOCKS[1], "README.md[1]", "exec"), ns)
    assert ns["verdict"].passed
    assert "PASSED" in capsys.readouterr().out


def test_readme_claim_table_lists_every_registered_claim():
    import claimcheck

    text = README.read_text()
    for cid in claimcheck.claim_ids():
        assert f"`{cid}`" in text, f"{cid} missing from the README claim table"


def _shown_output(block: str) -> str | None:
    """The plain ``` block right after a python block in the README (its shown output), if any."""
    after = README.read_text().split(block, 1)[1][len("```"):]
    m = re.match(r"\s*```\n(.*?)```", after, flags=re.S)
    return None if m is None else m.group(1).strip()


WITH_OUTPUT = [b for b in BLOCKS if _shown_output(b) is not None]


def test_the_examples_with_shown_output_include_the_pac_bayes_ones():
    assert any("tuned_bound" in b for b in WITH_OUTPUT) and any("forgot_tuning" in b for b in WITH_OUTPUT)


@pytest.mark.parametrize("block", WITH_OUTPUT, ids=lambda b: b.strip().splitlines()[0][:40])
def test_readme_example_prints_what_the_readme_shows(block, capsys):
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == _shown_output(block)
