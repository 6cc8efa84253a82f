"""The bad-input matrix: each case raises a ValueError that names the problem and what to do,
or, where skipping is the right policy, warns with a count and keeps going.

The estimator cases are here, run for every classifier family. The cases of files on disk
live beside their loaders in ``tests/datasets/test_loaders.py``:

- a corrupt JPEG: skipped, counted and listed (``test_image_folder_rgb_resize_and_skips``);
- a truncated CSV: "is the file truncated?" (``test_fer2013_csv_errors_name_the_problem``);
- an image over Pillow's decompression-bomb limit: skipped and counted (``test_decompression_bomb_is_refused``);
- a labels-CSV row naming a path outside the image folder (``test_labeled_images_refuses_paths_outside_the_folder``).
"""

import numpy as np
import pytest

from fersk import TransferClassifier, make_faces

from .classifiers.test_estimators import FAMILIES


def _poke(value):
    def corrupt(X):
        X = X.astype(float)
        X[3, 5] = value
        return X

    return corrupt


# case -> (what it does to the training images, the message the error must carry)
BAD_X_AT_FIT = {
    "NaN pixel": (_poke(np.nan), "Input X contains NaN"),
    "inf pixel": (_poke(np.inf), "Input X contains infinity"),
    "empty X": (lambda X: X[:0], "0 sample"),
    "non-numeric X": (lambda X: X.astype(str).astype(object) + "px", "could not convert|numeric"),
    "row length fits no square image": (lambda X: X[:, :-1], "not a square grayscale image; pass image_shape"),
}


@pytest.fixture(scope="module")
def faces():
    return make_faces(84, image_size=24, difficulty=0.0, random_state=0)


@pytest.fixture(scope="module")
def fitted(faces):
    X, y = faces
    return {name: make().fit(X, y) for name, make in FAMILIES.items()}


@pytest.mark.parametrize("case", BAD_X_AT_FIT)
@pytest.mark.parametrize("family", FAMILIES)
def test_bad_pixels_at_fit(faces, family, case):
    X, y = faces
    corrupt, message = BAD_X_AT_FIT[case]
    bad = corrupt(X)
    with pytest.raises(ValueError, match=message):
        FAMILIES[family]().fit(bad, y[: len(bad)])


@pytest.mark.parametrize("case", ["NaN pixel", "inf pixel", "non-numeric X"])
@pytest.mark.parametrize("family", FAMILIES)
def test_bad_pixels_at_predict(fitted, faces, family, case):
    corrupt, message = BAD_X_AT_FIT[case]
    with pytest.raises(ValueError, match=message):
        fitted[family].predict(corrupt(faces[0]))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_row_length_that_does_not_fit_image_shape(faces, family):
    X, y = faces
    with pytest.raises(
        ValueError, match=r"rows of X have 576 values, which does not fit image_shape=\(20, 20\) \(400 values\); fix"
    ):
        FAMILIES[family](image_shape=(20, 20)).fit(X, y)


@pytest.mark.parametrize("family", FAMILIES)
def test_one_class_only(faces, family):
    X, y = faces
    with pytest.raises(ValueError, match=r"needs at least 2 classes to learn from; y holds only \['happy'\]"):
        FAMILIES[family]().fit(X, np.full(len(y), "happy"))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_label_at_score_time_never_seen_at_fit_counts_as_wrong(fitted, faces, family):
    # as scikit-learn's ClassifierMixin.score: learning_curve and HalvingGridSearchCV train small
    # steps on fewer classes than they score on
    X, y = faces[0][:6], faces[1][:6].copy()
    model = fitted[family]
    right = model.predict(X) == y
    y[0] = "contempt"
    with pytest.warns(UserWarning, match=r"label\(s\) \['contempt'\] that this model never saw at fit"):
        score = model.score(X, y)
    assert score == pytest.approx(right[1:].sum() / 6)


@pytest.mark.parametrize("family", FAMILIES)
def test_four_dimensional_input_with_the_wrong_channel_count(fitted, faces, family):
    rgb = np.repeat(faces[0].reshape(-1, 24, 24, 1), 3, axis=3)
    with pytest.raises(ValueError, match=r"shape \(24, 24, 3\), but this model was fitted on \(24, 24, 1\)"):
        fitted[family].predict(rgb)


@pytest.mark.parametrize("family", FAMILIES)
def test_labels_with_stray_spaces_or_mixed_case_warn(family):
    X, y = make_faces(280, image_size=24, difficulty=0.0, random_state=0)  # enough of each spelling for the SVM
    third = np.arange(len(y)) % 3
    messy = np.where(third == 0, np.char.upper(y), np.where(third == 1, y, np.char.add(y, " ")))
    with pytest.warns(UserWarning, match="differ only in case or spaces .* fersk.canonical_emotion"):
        FAMILIES[family]().fit(X, messy)


@pytest.mark.parametrize(
    "make",
    [lambda: TransferClassifier("vgg16", weights=None, max_epochs=1, head_epochs=0)],
    ids=["vgg16"],
)
def test_images_smaller_than_the_network_accepts(make):
    X, y = make_faces(28, image_size=16, random_state=0)
    with pytest.raises(ValueError, match="vgg16 cannot take 16x16 images .* too small for its downsampling"):
        make().fit(X, y)
