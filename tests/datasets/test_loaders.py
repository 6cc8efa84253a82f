import gzip
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import fersk.datasets._decode as decode_module
from fersk import (
    EMOTIONS,
    FerskDataWarning,
    canonical_emotion,
    load_fer2013,
    load_image_folder,
    load_labeled_images,
)

FER_CODES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def save(array, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)


@pytest.fixture
def fer_source():
    """Rows of a small FER2013: (emotion code, 48x48 pixels, usage), deliberately unsorted."""
    rng = np.random.default_rng(0)
    usages = ["PrivateTest", "Training", "PublicTest", "Training", "PrivateTest", "Training"]
    return [(int(rng.integers(7)), rng.integers(0, 256, (48, 48)), u) for u in usages]


def write_fer_csv(rows, path, *, gz=False):
    lines = ["emotion,pixels,Usage"]
    lines += [f'{code},"{" ".join(map(str, px.ravel()))}",{usage}' for code, px, usage in rows]
    text = "\n".join(lines) + "\n"
    if gz:
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)


def write_fer_folders(rows, root):
    """Kaggle layout, named by CSV row, saved losslessly (PNG) so both forms must agree."""
    for row_number, (code, px, usage) in enumerate(rows, start=2):
        split = "train" if usage == "Training" else "test"
        save(px, root / split / FER_CODES[code] / f"{usage}_{row_number}.png")


@pytest.mark.parametrize("gz", [False, True])
def test_fer2013_csv_and_folders_give_identical_arrays(fer_source, tmp_path, gz):
    csv_path = tmp_path / ("fer2013.csv.gz" if gz else "fer2013.csv")
    write_fer_csv(fer_source, csv_path, gz=gz)
    write_fer_folders(fer_source, tmp_path / "kaggle")
    from_csv = load_fer2013(csv_path, cache_dir=False)
    from_folders = load_fer2013(tmp_path / "kaggle", cache_dir=False)
    np.testing.assert_array_equal(from_csv.data, from_folders.data)
    np.testing.assert_array_equal(from_csv.target, from_folders.target)
    np.testing.assert_array_equal(from_csv.usage, from_folders.usage)
    assert list(from_csv.usage) == ["Training"] * 3 + ["PublicTest"] + ["PrivateTest"] * 2
    assert from_csv.data.shape == (6, 48 * 48) and from_csv.images.shape == (6, 48, 48)


def test_fer2013_subsets(fer_source, tmp_path):
    write_fer_csv(fer_source, tmp_path / "fer2013.csv")
    assert len(load_fer2013(tmp_path, subset="Training", cache_dir=False).target) == 3
    test = load_fer2013(tmp_path, subset="test", cache_dir=False)
    assert set(test.usage) == {"PublicTest", "PrivateTest"} and len(test.target) == 3
    with pytest.raises(ValueError, match="unknown FER2013 subset 'validation'"):
        load_fer2013(tmp_path, subset="validation")


def test_fer2013_csv_errors_name_the_problem(fer_source, tmp_path):
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels\n0,1 2 3\n")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['usage'\]"):
        load_fer2013(path, cache_dir=False)
    write_fer_csv(fer_source[:2], path)
    text = path.read_text()
    path.write_text(text[: len(text) - 400])  # a truncated download
    with pytest.raises(ValueError, match="row 3 of .* fields; is the file truncated"):
        load_fer2013(path, cache_dir=False)
    path.write_text("emotion,pixels,Usage\n0," + " ".join(["7"] * 2303) + ",Training\n")
    with pytest.raises(ValueError, match="row 2 of .* has 2303 pixel values; .* 2304"):
        load_fer2013(path, cache_dir=False)
    path.write_text("emotion,pixels,Usage\n9," + " ".join(["0"] * 2304) + ",Training\n")
    with pytest.raises(ValueError, match="emotion '9'; FER2013 codes are 0-6"):
        load_fer2013(path, cache_dir=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="neither fer2013.csv nor"):
        load_fer2013(tmp_path / "empty")


def test_image_folder_rgb_resize_and_skips(tmp_path):
    rng = np.random.default_rng(1)
    save(rng.integers(0, 256, (30, 40, 3)), tmp_path / "Happiness" / "a.png")
    save(rng.integers(0, 256, (64, 64, 3)), tmp_path / "sad" / "nested" / "b.jpg")
    (tmp_path / "sad" / "notes.txt").write_text("not an image")
    (tmp_path / "sad" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    (tmp_path / "README.md").write_text("stray file")
    with pytest.warns(FerskDataWarning, match="skipped 3 item") as record:
        data = load_image_folder(tmp_path, image_size=(24, 32), grayscale=False, cache_dir=False)
    assert len(record) == 1
    assert data.images.shape == (2, 24, 32, 3) and data.data.shape == (2, 24 * 32 * 3)
    assert list(data.target) == ["happy", "sad"]
    assert data.skipped == {
        "not in a class folder": ["README.md"],
        "not an image file": ["sad/notes.txt"],
        "corrupt image": ["sad/broken.jpg"],
    }
    with pytest.warns(FerskDataWarning):
        raw = load_image_folder(tmp_path, canonical_labels=False, cache_dir=False)
    assert list(raw.target) == ["Happiness", "sad"]


def test_image_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="no images found"):
        load_image_folder(tmp_path)
    save(np.zeros((10, 10)), tmp_path / "a" / "x.png")
    save(np.zeros((12, 10)), tmp_path / "b" / "y.png")
    with pytest.raises(ValueError, match="different sizes: 10x10 .* 12x10 .* pass image_size"):
        load_image_folder(tmp_path, image_size=None, cache_dir=False)


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    save(np.zeros((20, 20)), tmp_path / "happy" / "small.png")
    save(np.zeros((200, 200)), tmp_path / "happy" / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.warns(FerskDataWarning, match="1 image over the decompression-bomb limit"):
        data = load_image_folder(tmp_path, cache_dir=False)
    assert list(data.filenames) == ["happy/small.png"]


@pytest.fixture
def messy(tmp_path):
    """A muxspace-like folder and legend with every kind of mess."""
    images = tmp_path / "images"
    rng = np.random.default_rng(2)
    names = [f"img{i}.jpg" for i in range(12)]
    for name in names:
        save(rng.integers(0, 256, (50, 50)), images / name)
    legend = [
        "user.id,image,emotion",
        "1,img0.jpg,anger",
        "1,img1.jpg,ANGER",
        "1,img2.jpg,happiness",
        "1,img3.jpg,HAPPINESS",
        "1,img3.jpg,happiness",  # duplicate, same label after mapping
        "1,img4.jpg,sadness",
        "1,img4.jpg,surprise",  # conflicting duplicate
        "1,img5.jpg,contempt",  # rare class
        "1,img6.jpg, neutral ",
        "1,img7.jpg,neutral",
        "1,missing.jpg,neutral",
        "1,img8.jpg,Surprise",
    ]  # img9..img11 have no label
    (tmp_path / "legend.csv").write_text("\n".join(legend) + "\n")
    split = ["image,emotion,split"] + [f"img{i}.jpg,x,{'test' if i % 2 else 'train'}" for i in range(8)]
    (tmp_path / "split.csv").write_text("\n".join(split) + "\n")
    return tmp_path


def test_labeled_images_survives_the_mess(messy):
    with pytest.warns(FerskDataWarning) as record:
        data = load_labeled_images(messy / "images", messy / "legend.csv", cache_dir=False)
    assert len(record) == 1
    assert "skipped 6 item(s)" in str(record[0].message)
    assert list(data.filenames) == [f"img{i}.jpg" for i in (0, 1, 2, 3, 5, 6, 7, 8)]
    assert list(data.target) == ["angry", "angry", "happy", "happy", "contempt", "neutral", "neutral", "surprise"]
    assert data.skipped == {
        "duplicate row (one copy kept)": ["img3.jpg"],
        "conflicting labels": ["img4.jpg"],
        "missing file": ["missing.jpg"],
        "unlabeled image": ["img10.jpg", "img11.jpg", "img9.jpg"],
    }
    assert data.images.shape == (8, 48, 48)


def test_labeled_images_rare_classes_and_split(messy):
    with pytest.warns(FerskDataWarning):
        rare = load_labeled_images(messy / "images", messy / "legend.csv", min_count=2, cache_dir=False)
    assert "contempt" not in rare.target and "surprise" not in rare.target
    assert rare.skipped["class 'contempt' left out (classes=/min_count=)"] == ["img5.jpg"]
    with pytest.warns(FerskDataWarning):
        chosen = load_labeled_images(
            messy / "images", messy / "legend.csv", classes=["Happiness", "anger"], cache_dir=False
        )
    assert set(chosen.target) == {"happy", "angry"}
    with pytest.warns(FerskDataWarning, match="not in split file"):
        split = load_labeled_images(
            messy / "images", messy / "legend.csv", split_csv=messy / "split.csv", cache_dir=False
        )
    assert dict(zip(split.filenames, split.split)) == {
        "img0.jpg": "train",
        "img1.jpg": "test",
        "img2.jpg": "train",
        "img3.jpg": "test",
        "img5.jpg": "test",
        "img6.jpg": "train",
        "img7.jpg": "test",
    }


def test_labeled_images_refuses_paths_outside_the_folder(messy):
    (messy / "evil.csv").write_text("image,emotion\n../../etc/passwd,happy\n")
    with pytest.raises(ValueError, match="row 2 of .*'../../etc/passwd', which lies outside"):
        load_labeled_images(messy / "images", messy / "evil.csv")


def test_labeled_images_column_errors(messy):
    (messy / "odd.csv").write_text("picture,mood\nimg0.jpg,happy\n")
    with pytest.raises(ValueError, match=r"which column .* holds the image.*pass image_column="):
        load_labeled_images(messy / "images", messy / "odd.csv")
    with pytest.warns(FerskDataWarning):
        data = load_labeled_images(
            messy / "images", messy / "odd.csv", image_column="picture", label_column="mood", cache_dir=False
        )
    assert list(data.target) == ["happy"]
    with pytest.raises(ValueError, match="has no column 'labels'"):
        load_labeled_images(messy / "images", messy / "odd.csv", image_column="picture", label_column="labels")


def test_canonical_labels_off_keeps_labels_as_written(messy):
    with pytest.warns(FerskDataWarning):
        data = load_labeled_images(messy / "images", messy / "legend.csv", canonical_labels=False, cache_dir=False)
    assert {"anger", "ANGER", "neutral", "Surprise"} <= set(data.target)


def test_decoding_is_cached_and_invalidated_by_changes(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    save(np.full((8, 8), 10), tmp_path / "data" / "happy" / "a.png")
    first = load_image_folder(tmp_path / "data", image_size=8, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 1

    def fail(*args):
        raise AssertionError("decoded again although cached")

    monkeypatch.setattr(decode_module, "_decode_all", fail)
    again = load_image_folder(tmp_path / "data", image_size=8, cache_dir=cache)
    np.testing.assert_array_equal(first.data, again.data)
    monkeypatch.undo()
    save(np.full((8, 8), 200), tmp_path / "data" / "happy" / "a.png")
    import os

    os.utime(tmp_path / "data" / "happy" / "a.png", ns=(1, 10**18))
    changed = load_image_folder(tmp_path / "data", image_size=8, cache_dir=cache)
    assert changed.data[0, 0] == 200


def test_a_damaged_cache_entry_is_decoded_again_and_replaced(tmp_path):
    cache = tmp_path / "cache"
    save(np.full((8, 8), 10), tmp_path / "data" / "happy" / "a.png")
    first = load_image_folder(tmp_path / "data", image_size=8, cache_dir=cache)
    (entry,) = cache.glob("*.npz")
    with np.load(entry, allow_pickle=False) as stored:
        before = {name: stored[name] for name in stored.files}
    damaged = bytearray(entry.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # lands in the stored arrays: a bad CRC on reading
    entry.write_bytes(bytes(damaged))
    again = load_image_folder(tmp_path / "data", image_size=8, cache_dir=cache)
    np.testing.assert_array_equal(first.data, again.data)
    with np.load(entry, allow_pickle=False) as stored:  # the entry was rewritten whole
        assert stored.files == list(before)
        for name in before:
            np.testing.assert_array_equal(stored[name], before[name])


@settings(deadline=None)  # hypothesis's default of 200 ms an example fails on a machine busy enough to stall one
@given(
    st.sampled_from(["anger", "happiness", "sadness", "surprised", "fear", "neutral", "disgusted", "contempt"]),
    st.text(" \t", max_size=3),
    st.booleans(),
)
def test_canonical_emotion_ignores_case_and_spaces(word, pad, upper):
    label = pad + (word.upper() if upper else word) + pad
    assert canonical_emotion(label) in EMOTIONS
    assert canonical_emotion(label) == canonical_emotion(word)


def test_unknown_labels_pass_through():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert canonical_emotion(" Pain ") == "pain"
