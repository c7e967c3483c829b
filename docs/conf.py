"""Sphinx configuration of the claimcheck documentation (``make docs``; warnings are errors).

Builds offline: no intersphinx, no remote images; the API pages are rendered from the
docstrings (autodoc + napoleon), the claims catalogue from the registry (``_ext/catalogue.py``),
and the README files are included as they are (MyST), so nothing is written twice.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

from claimcheck import __version__  # noqa: E402  (the installed package is documented)

project = "claimcheck"
author = "the claimcheck authors"
copyright = "claimcheck authors, MIT License"  # noqa: A001
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
    "catalogue",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
templates_path: list[str] = []

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "class"
napoleon_google_docstring = True
napoleon_numpy_docstring = True

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"claimcheck {release}"
html_static_path: list[str] = []
html_theme_options = {"description": "Closed-form claims of deep-learning theory, checked by simulation",
                      "page_width": "1100px", "sidebar_width": "230px"}

# The catalogue embeds each claim's figure when a figures folder is given (``make docs`` draws
# them first); without one it names the figure and says how to draw it.
claimcheck_figures = os.environ.get("CLAIMCHECK_DOCS_FIGURES") or None

# torch is the optional ``gpu`` extra: the GPU suite's pages are rendered from its docstrings
# with torch mocked (autodoc_mock_imports): the build never imports it (8 of 30 CPU seconds here).
autodoc_mock_imports = ["torch"]
