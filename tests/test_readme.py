"""The README's Python examples run as written (a user copies them)."""
import re
from pathlib import Path

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


def test_readme_tuning_example_prints_what_the_readme_shows(capsys):
    block = next(b for b in BLOCKS if "tuned_bound" in b)
    exec(compile(block, "README.md[tuned_bound]", "exec"), {})
    printed = capsys.readouterr().out.strip()
    after = README.read_text().split(block, 1)[1]
    shown = re.search(r"```\n(.*?)```", after[len("```"):], flags=re.S).group(1).strip()
    assert printed == shown
