import numpy as np
import pytest
from PIL import Image

from fersk.datasets import load_dataset, train_test_parts


def _image(path, value, size=48):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (size, size), value).save(path)


@pytest.fixture
def fer2013_folders(tmp_path):
    root = tmp_path / "faces-kaggle"  # not named fer2013*: recognised by its train/ folder
    for i, (usage, label) in enumerate([("Training", "happy"), ("Training", "sad"), ("PrivateTest", "sad")] * 2):
        _image(root / ("train" if usage == "Training" else "test") / label / f"{usage}_{i}.jpg", 20 * i)
    return root


@pytest.fixture
def labeled_layout(tmp_path):
    """muxspace's layout: images/, data/legend.csv (mixed-case labels) and data/split.csv."""
    root = tmp_path / "photos"
    labels = ["HAPPINESS", "sadness", "happiness", "Sadness", "happiness", "sadness"]
    splits = ["train", "train", "train", "train", "test", "test"]
    (root / "data").mkdir(parents=True)
    legend, split = ["user.id,image,emotion"], ["image,emotion,split"]
    for i, (label, part) in enumerate(zip(labels, splits)):
        _image(root / "images" / f"{i}.jpg", 30 * i, size=80)
        legend.append(f"someone,{i}.jpg,{label}")
        split.append(f"{i}.jpg,{label.lower()},{part}")
    (root / "data" / "legend.csv").write_text("\n".join(legend) + "\n")
    (root / "data" / "split.csv").write_text("\n".join(split) + "\n")
    return root


def test_fer2013_is_recognised_and_split_by_usage(fer2013_folders):
    data = load_dataset(fer2013_folders, cache_dir=False)
    assert data.format == "fer2013" and "paths" not in data
    X_train, y_train, X_test, y_test, how = train_test_parts(data)
    assert (len(y_train), len(y_test), how) == (4, 2, "Training / PrivateTest")
    assert set(y_test) == {"sad"}


def test_fer2013_refuses_another_size_with_a_reason(fer2013_folders):
    assert load_dataset(fer2013_folders, image_size=48, grayscale=True, cache_dir=False).data.shape == (6, 2304)
    with pytest.raises(ValueError, match="FER2013's images are 48x48 grayscale"):
        load_dataset(fer2013_folders, image_size=24, cache_dir=False)


def test_a_folder_of_images_and_label_csvs_is_read_with_its_split(labeled_layout):
    data = load_dataset(labeled_layout, image_size=32, cache_dir=False)
    assert data.format == "labeled" and data.data.shape == (6, 32 * 32)
    assert list(data.target) == ["happy", "sad"] * 3  # legend.csv's labels, canonical
    assert [p.split("/")[-1] for p in data.paths] == [f"{i}.jpg" for i in range(6)]
    assert np.asarray(Image.open(data.paths[1])).mean() == 30  # each path is its row's file
    *_, y_test, how = train_test_parts(data)
    assert list(y_test) == ["happy", "sad"] and how.startswith("the split CSV")


def test_class_folders_carry_their_paths(tmp_path):
    for i, label in enumerate(["happy", "sad", "happy"]):
        _image(tmp_path / label / f"{i}.png", 50 * i)
    data = load_dataset(tmp_path, cache_dir=False)
    assert data.format == "folder"
    for path, label in zip(data.paths, data.target):
        assert f"/{label}/" in path


def test_a_missing_path_or_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_dataset(tmp_path / "nothing")
    with pytest.raises(ValueError, match="format must be one of"):
        load_dataset(tmp_path, format="kaggle")
