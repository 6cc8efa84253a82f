"""The loaders on the real datasets in ../shared/data (run in CI as well)."""

from collections import Counter

import pytest

from fersk import FerskDataWarning, load_fer2013, load_labeled_images

pytestmark = pytest.mark.realdata


def test_fer2013_folder_layout_has_the_published_splits(shared_data):
    data = load_fer2013(shared_data / "fer2013")
    assert Counter(data.usage.tolist()) == {"Training": 28709, "PublicTest": 3589, "PrivateTest": 3589}
    assert data.data.shape == (35887, 48 * 48) and data.data.dtype == "float32"
    assert data.target_names.tolist() == ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    train = Counter(data.target[data.usage == "Training"].tolist())
    assert train["happy"] == 7215 and train["disgust"] == 436
    assert load_fer2013(shared_data / "fer2013", subset="test").data.shape == (7178, 2304)


def test_muxspace_legend_mess_is_counted(shared_data):
    root = shared_data / "muxspace"
    with pytest.warns(FerskDataWarning) as record:
        data = load_labeled_images(root / "images", root / "data" / "legend.csv")
    assert len(record) == 1
    # 13,718 files; 13,682 distinct names in legend.csv (8 listed twice, one of them
    # with two labels), so 36 files have no row at all.
    assert {k: len(v) for k, v in data.skipped.items()} == {
        "duplicate row (one copy kept)": 7,
        "conflicting labels": 1,
        "unlabeled image": 36,
    }
    assert Counter(data.target.tolist()) == {
        "neutral": 6864,
        "happy": 5693,
        "surprise": 367,
        "sad": 267,
        "angry": 252,
        "disgust": 208,
        "fear": 21,
        "contempt": 9,
    }


def test_muxspace_fixed_split(shared_data):
    root = shared_data / "muxspace"
    with pytest.warns(FerskDataWarning, match="9 not in split file"):
        data = load_labeled_images(root / "images", root / "data" / "legend.csv", split_csv=root / "data" / "split.csv")
    assert Counter(data.split.tolist()) == {"train": 9569, "val": 1368, "test": 2735}
    assert Counter(data.target[data.split == "test"].tolist()) == {
        "neutral": 1373,
        "happy": 1139,
        "surprise": 74,
        "sad": 53,
        "angry": 50,
        "disgust": 42,
        "fear": 4,
    }
