"""Sphinx directive ``.. claimcheck-catalogue::``: the claims catalogue, generated from the registry.

One section per family and one per claim: title, statement (as display math), kind, source,
decision rule, declared domain, default parameters and the points ``claimcheck verify``
checks, notes, figure (embedded when the ``claimcheck_figures`` folder holds ``NAME.png``) and
every registered mutant. The page is therefore always the registry's own content: a new claim
appears without editing the docs.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

_RST_SPECIAL = re.compile(r"([\\`*_|])")


def rst_escape(text: str) -> str:
    """Plain text safe inside reStructuredText paragraphs (no accidental emphasis or references)."""
    return _RST_SPECIAL.sub(r"\\\1", str(text))


def _fmt(params) -> str:
    from claimcheck.report import fmt_params

    return fmt_params(dict(params))


def check_text(rule, *, alpha: bool = True) -> str:
    """The decision rule in words: its class (linked to its API entry), alpha and rel_tol; an
    :class:`~claimcheck.checks.AllOf` lists its parts; a check wrapped in preconditions (a rule
    with a ``check`` and ``requires``, e.g. the GPU rules' ``Given``) names the wrapped check
    and its preconditions (the wrapper's alpha is the one used; ``alpha=False`` leaves it out of
    the wrapped check's text)."""
    from claimcheck.checks import AllOf, Check

    cls = f":class:`~{type(rule).__module__}.{type(rule).__name__}`"
    if isinstance(rule, AllOf):
        parts = "; ".join(f"{rst_escape(p[0])}: {check_text(p[1], alpha=False)}" for p in rule.parts)
        return f"all of ({parts})" + (f", alpha = {rule.alpha:g} split over the parts" if alpha else "")
    inner = getattr(rule, "check", None)
    if isinstance(inner, Check):
        names = ", ".join(rst_escape(r[0]) for r in getattr(rule, "requires", ()) or ())
        given = f", given the preconditions {names}" if names else ""
        return (f"{check_text(inner, alpha=False)}{given} ({cls}: underpowered unless they hold)"
                + (f", alpha = {rule.alpha:g}" if alpha else ""))
    opts = [f"alpha = {rule.alpha:g}"] if alpha else []
    rel_tol = getattr(rule, "rel_tol", None)
    if rel_tol is not None:
        opts.append(f"rel_tol = {rel_tol:g}")
    return f"{cls} ({', '.join(opts)})" if opts else cls


def domain_text(described) -> str:
    """A declared domain (:meth:`claimcheck.domain.Domain.describe`) as one line of literals."""
    out = []
    for name, text in described.items():
        if isinstance(text, dict):   # AnyOf: one dict per branch
            out.append(f"{rst_escape(name)}: " + ", ".join(f"``{k}`` {rst_escape(v)}" for k, v in text.items()))
        else:
            out.append(f"``{name}`` {rst_escape(text)}" if name != "constraints" else f"constraints ``{text}``")
    return "; ".join(out)


def catalogue_rst(figures: str | None, docdir: str) -> list[str]:
    """The catalogue as reStructuredText lines."""
    from claimcheck import all_claims

    claims = all_claims()
    lines: list[str] = []
    family = None
    kinds: dict[str, int] = {}
    for c in claims:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    measured = sum(c.evidence == "measurement" for c in claims)
    lines += [f"{len(claims)} claims: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
              + (f"; {measured} of them decided on measured results (``evidence = measurement``)" if measured else "")
              + ".", ""]
    for c in claims:
        fam = c.id.split(".", 1)[0]
        if fam != family:
            family = fam
            title = f"Family ``{fam}``"
            lines += [title, "-" * len(title), ""]
        head = f"``{c.id}``"
        lines += [f".. _claim-{c.id}:", "", head, "~" * len(head), "", f"**{rst_escape(c.title)}**", ""]
        lines += [".. math::", "", "   " + c.statement.replace("\n", " "), ""]
        lines += [f":Kind: {c.kind}", f":Source: {rst_escape(c.source)}", f":Default: ``{_fmt(c.default)}``"]
        if c.verify_points:
            lines.append(":Also verified at: " + "; ".join(f"``{_fmt(p)}``" for p in c.verify_points))
        lines.append(f":Check: {check_text(c.rule)}; base replicates {c.reps}")
        if c.param_spec is not None:
            lines.append(f":Domain: {domain_text(c.param_spec.describe())}")
        if c.evidence == "measurement":
            lines.append(f":Evidence: measurement: decided on measured results, not simulated "
                         f"(``claimcheck verify {c.id}`` re-decides them; SKIPPED where the result file is "
                         "absent; a plain ``claimcheck verify`` leaves the claim out)")
        elif c.evidence != "simulation":
            lines.append(f":Evidence: {rst_escape(c.evidence)}")
        if c.notes:
            lines.append(f":Notes: {rst_escape(c.notes)}")
        lines.append(f":Figure: ``{c.figure}``" if c.figure else ":Figure: none")
        lines.append("")
        if c.mutants:
            lines += ["Mutants (wrong formulas this claim's check must reject):", ""]
            lines += [f"- ``{m.name}``: {rst_escape(m.description)}" for m in c.mutants] + [""]
        if c.figure and figures:
            png = Path(figures) / f"{c.figure}.png"
            if png.is_file():
                rel = os.path.relpath(png.resolve(), docdir)
                lines += [f".. image:: {Path(rel).as_posix()}", f"   :alt: figure {c.figure}", "   :width: 90%", ""]
    return lines


class CatalogueDirective(SphinxDirective):
    has_content = False

    def run(self):
        docdir = str(Path(self.env.doc2path(self.env.docname)).parent)
        figures = self.config.claimcheck_figures
        rst = StringList()
        for i, line in enumerate(catalogue_rst(figures, docdir)):
            rst.append(line, "<claimcheck-catalogue>", i)
        node = nodes.container()
        nested_parse_with_titles(self.state, rst, node)
        return node.children


def setup(app):
    app.add_config_value("claimcheck_figures", None, "env")
    app.add_directive("claimcheck-catalogue", CatalogueDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
