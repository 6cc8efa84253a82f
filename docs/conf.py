"""Sphinx configuration of fersk's documentation: numpydoc, autosummary, sphinx-gallery."""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).parent))  # for the _scrapers module

import fersk  # noqa: E402

project = "fersk"
author = "the fersk developers"
copyright = "2026, the fersk developers"
release = version = fersk.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
# scikit-learn generates the set_*_request methods; their docstrings point into its own docs
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    "exclude-members": ",".join(
        f"set_{method}_request" for method in ("fit", "partial_fit", "predict", "predict_proba", "score", "transform")
    ),
}
numpydoc_show_class_members = False  # the autosummary templates list members
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
templates_path = ["_templates"]

html_theme = "pydata_sphinx_theme"
html_title = f"fersk {release}"
html_theme_options = {"navigation_with_keys": False}
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"pretrained_gradcam\.py",
    "image_scrapers": ("_scrapers", "matplotlib"),  # ours first: pyplot figures still have their manager
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": os.environ.get("FERSK_DOCS_PLOT", "True"),
    "abort_on_example_error": True,
}
