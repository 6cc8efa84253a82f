"""The documentation lists the whole public API."""

from pathlib import Path

import fersk

API = (Path(__file__).resolve().parents[1] / "docs" / "api.rst").read_text()


def test_every_public_name_has_an_api_page():
    listed = {line.strip().split(".")[-1] for line in API.splitlines() if line.startswith("   ") and ":" not in line}
    missing = set(fersk.__all__) - listed
    assert not missing, f"add these to docs/api.rst: {sorted(missing)}"


def test_every_example_in_the_gallery_is_named_plot_and_has_a_title():
    examples = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))
    assert len(examples) >= 12
    for path in examples:
        lines = path.read_text().splitlines()
        assert lines[0] == '"""' and set(lines[2]) == {"="}, f"{path.name} needs a titled docstring for sphinx-gallery"
