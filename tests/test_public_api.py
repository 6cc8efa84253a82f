"""The public API: what ``fersk`` exports is what the README and the guide use, and what the API page lists."""

import importlib
import re
from pathlib import Path

import fersk

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _documented_top_level_names():
    """The autosummary entries of docs/api.rst without a submodule prefix: the page's top-level names."""
    entries = re.findall(r"^   ([A-Za-z_][\w.]*)$", (DOCS / "api.rst").read_text(), flags=re.M)
    return {name for name in entries if "." not in name}


def test_the_api_page_lists_exactly_the_top_level_names():
    assert _documented_top_level_names() == set(fersk.__all__)


def test_the_names_a_newcomer_needs_are_top_level_and_plumbing_is_not():
    wanted = {"evaluate", "load_dataset", "crop_faces", "FaceRecords", "VideoRecords", "FrameRecord", "list_detectors"}
    assert wanted <= set(fersk.__all__)
    assert not {"default_cache_dir", "pretrained_path", "create_backbone"} & set(fersk.__all__)
    assert fersk.FaceRecords is fersk.faces.FaceRecords and fersk.FrameRecord is fersk.video.FrameRecord
    assert fersk.evaluate is fersk.evaluation.evaluate and fersk.crop_faces is fersk.preprocessing.crop_faces


def test_every_name_on_the_api_page_resolves():
    entries = re.findall(r"^   ([A-Za-z_][\w.]*)$", (DOCS / "api.rst").read_text(), flags=re.M)
    for entry in entries:
        module, _, name = entry.rpartition(".")
        owner = importlib.import_module(f"fersk.{module}" if module else "fersk")
        assert getattr(owner, name, None) is not None, entry
