"""The documentation lists the whole public API, and the README quotes the model cards' figures."""

import re
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


def test_the_readmes_figures_of_the_shipped_models_are_their_cards():
    # the cards' figures are held to the models by tests/test_pretrained.py; the README's table quotes them
    from .test_pretrained import card_tables, card_text

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    header = "| model | FER2013 PrivateTest | FER2013 test | muxspace test photos, end to end |"
    assert header in readme
    rows = {
        cells[0]: [cell.split(" / ") for cell in cells[1:]]
        for line in readme.splitlines()
        if line.startswith("| `fer2013")
        for cells in [[cell.strip() for cell in line.strip().strip("|").split("|")]]
    }
    assert set(rows) == {"`fer2013`", "`fer2013-muxspace`"}
    fer2013 = card_tables("fer2013")["split", "accuracy"]
    private, test, _ = rows["`fer2013`"]
    assert private[0] == fer2013["PrivateTest (3,589)"][0]
    assert test == [
        fer2013["test = PublicTest+PrivateTest (7,178)"][0],
        *re.findall(r"Macro-F1 on test: (\S+)\.", card_text("fer2013")),
    ]
    gated = card_tables("fer2013-muxspace")["test set", "accuracy", "macro-F1"]
    private, test, photos = rows["`fer2013-muxspace`"]
    assert private[0] == gated["FER2013 PrivateTest (3,589)"][0]
    assert test == gated["FER2013 test = PublicTest+PrivateTest (7,178)"]
    assert photos == gated["muxspace test photos (2,735), end to end"]
