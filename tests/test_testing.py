"""fersk.testing: its strategies draw what they promise, and each property passes a model that keeps it
and fails, saying on how many images, a model built to break it."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline

import fersk
from fersk import CNNClassifier, HOGSVMClassifier, HOGTransformer, canonical_emotion, detect_faces, make_faces
from fersk.datasets._vocabulary import _SYNONYMS
from fersk.testing import (
    Photo,
    assert_batch_size_independent,
    assert_mirror_consistent,
    assert_order_independent,
    emotion_labels,
    faces,
    images,
    label_vocabularies,
    make_photo,
    photos,
)
from fersk.testing._strategies import SPELLINGS

FAST = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- the import contract --------------------------------------------------------------------------------------------


def test_import_fersk_does_not_import_hypothesis():
    code = "import sys, fersk, fersk.datasets, fersk.preprocessing; print('hypothesis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_without_hypothesis_fersk_testing_says_what_to_install():
    code = "import sys; sys.modules['hypothesis'] = None; import fersk.testing"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "ImportError: fersk.testing needs hypothesis" in result.stderr
    assert "pip install fersk[testing]" in result.stderr


# -- strategies -----------------------------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(X=images(st.integers(1, 4), image_size=(5, 7), channels=3, mirror_symmetric=True))
def test_images_are_uint8_rows_and_mirror_symmetric_on_request(X):
    assert X.dtype == np.uint8 and X.ndim == 2 and X.shape[1] == 5 * 7 * 3 and 1 <= len(X) <= 4
    pictures = X.reshape(-1, 5, 7, 3)
    np.testing.assert_array_equal(pictures, pictures[:, :, ::-1])


def test_images_reach_every_pixel_value():
    seen = set()

    @settings(max_examples=30, deadline=None, derandomize=True)
    @given(X=images(2, image_size=8))
    def collect(X):
        seen.update({int(X.min()), int(X.max())})

    collect()
    assert {0, 255} <= seen


@settings(max_examples=15, deadline=None)
@given(data=faces(st.integers(1, 6), image_size=16, emotions=["Happiness", "sad", "anger"]))
def test_faces_are_float_pixel_rows_labelled_as_the_class_set_is_spelled(data):
    X, y = data
    assert X.dtype == np.float32 and X.shape == (len(y), 16 * 16) and 1 <= len(y) <= 6
    assert np.all(X == np.round(X)) and X.min() >= 0 and X.max() <= 255
    assert set(y) <= {"Happiness", "sad", "anger"}


@settings(max_examples=10, deadline=None)
@given(data=faces(2, image_size=12, emotions=["happy", "sad", "fear"], all_emotions=True, channels=3))
def test_faces_of_all_emotions_hold_each_at_least_once(data):
    X, y = data
    assert sorted(y) == ["fear", "happy", "sad"]  # two asked for, three classes: one of each
    rgb = X.reshape(3, 12, 12, 3)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])


def test_faces_are_make_faces_faces_of_their_label():
    # a face drawn for one label is make_faces' face of that emotion (its shape and class, not a second generator)
    @settings(max_examples=3, deadline=None, derandomize=True)  # a model's answers: the same faces on every run
    @given(data=faces(4, image_size=24, emotions=["happy", "surprise"], difficulty=0.0))
    def check(data):
        X, y = data
        model_X, model_y = make_faces(70, image_size=24, emotions=["happy", "surprise"], difficulty=0, random_state=0)
        model = HOGSVMClassifier(pixels_per_cell=(6, 6), random_state=0).fit(model_X, model_y)
        np.testing.assert_array_equal(model.predict(X), y)

    check()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(emotions=["happy", "pain"]), r"faces can draw .* got \['pain'\]"),
        (dict(emotions=["anger", "Angry"]), "name one emotion twice"),
        (dict(image_size=6), "image_size must be a whole number >= 8"),
        (dict(difficulty=2), r"difficulty must lie in \[0, 1\]"),
        (dict(channels=2), "channels must be 1"),
        (dict(n_faces=0), "n_faces must be a whole number >= 1"),
    ],
)
def test_faces_refuse_what_they_cannot_draw(kwargs, message):
    with pytest.raises(ValueError, match=message):
        faces(**kwargs)


def _overlap(a, b):
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


@settings(max_examples=25, deadline=None)
@given(photo=photos(st.integers(0, 4), face_size=(24, 60)))
def test_photos_hold_their_faces_apart_inside_the_image_largest_first(photo):
    assert isinstance(photo, Photo) and photo.image.dtype == np.uint8 and photo.image.shape[2] == 3
    h, w = photo.image.shape[:2]
    boxes = photo.boxes
    assert boxes.shape == (photo.n_faces, 4) and min(h, w) >= 64
    assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2] <= w) and np.all(boxes[:, 3] <= h)
    assert np.all(np.abs(boxes[:, 3] - boxes[:, 1] - np.clip(boxes[:, 3] - boxes[:, 1], 24, 60)) <= 1)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    assert np.all(np.diff(areas) <= 0)
    assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


@settings(max_examples=4, deadline=None, derandomize=True)  # a detector under test: the same photos on every run
@given(photo=photos(st.integers(0, 2)))
def test_the_default_detector_finds_each_pasted_face_at_its_box(photo):
    found = detect_faces(photo.image)
    assert len(found) == photo.n_faces
    centres = (photo.boxes[:, :2] + photo.boxes[:, 2:]) / 2
    matched = []
    for face in found:  # faces of about one size may be listed in either order: match each to the nearest box
        k = int(np.argmin(np.abs(centres - face.center).max(axis=1)))
        assert np.allclose(face.center, centres[k], atol=0.15 * face.height)
        assert 0.75 < face.height / (photo.boxes[k, 3] - photo.boxes[k, 1]) < 1.25
        matched.append(k)
    assert sorted(matched) == list(range(photo.n_faces))


def test_photos_of_your_own_faces_paste_them_whole():
    square = np.zeros((20, 20), np.uint8)
    square[:, :10] = 255  # left half white: pasted mirrored or not

    @settings(max_examples=10, deadline=None)
    @given(photo=photos(2, face_size=40, face_images=[square]))
    def check(photo):
        for left, top, right, bottom in photo.boxes.round().astype(int):
            assert (right - left, bottom - top) == (40, 40)
            patch = photo.image[top:bottom, left:right, 0].astype(int)
            assert {patch[:, :15].mean() > 200, patch[:, -15:].mean() > 200} == {True, False}

    check()


def test_make_photo_is_the_same_photo_for_the_same_seed_and_refuses_bad_counts():
    first, again = make_photo(3, random_state=4), make_photo(3, random_state=4)
    np.testing.assert_array_equal(first.image, again.image)
    np.testing.assert_array_equal(first.boxes, again.boxes)
    assert make_photo(0, random_state=0).n_faces == 0
    with pytest.raises(ValueError, match="n_faces must be a whole number >= 0"):
        make_photo(-1)
    with pytest.raises(ValueError, match="face_size must be a height in pixels"):
        make_photo(1, face_size=(10, 900))
    with pytest.raises(ValueError, match=r"face_images\[0\] holds values outside 0-255"):
        make_photo(1, face_images=[np.full((10, 10), 300.0)])


def test_the_spellings_are_canonical_emotions_table_inverted():
    inverted = {}
    for spelling, name in _SYNONYMS.items():
        inverted.setdefault(name, set()).add(spelling)
    assert {name: set(words) for name, words in SPELLINGS.items()} == inverted


@settings(max_examples=60, deadline=None)
@given(label=emotion_labels())
def test_emotion_labels_map_onto_fersks_names(label):
    assert canonical_emotion(label) in fersk.EMOTIONS


def test_emotion_labels_spell_every_synonym_in_every_case_and_with_spaces():
    seen = set()

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(label=emotion_labels(["happy", "Pain"]))
    def collect(label):
        assert canonical_emotion(label) in ("happy", "pain")
        seen.add(label)

    collect()
    assert {"happy", "happiness", "joy", "pain"} <= {s.strip().lower() for s in seen}
    assert any(s.isupper() for s in seen) and any(s != s.strip() for s in seen)


@settings(max_examples=30, deadline=None)
@given(vocabulary=label_vocabularies(["angry", "happy", "sad", "neutral"], min_size=2, max_size=3))
def test_label_vocabularies_spell_each_emotion_once_without_spaces(vocabulary):
    assert 2 <= len(vocabulary) <= 3 and len(set(vocabulary.values())) == len(vocabulary)
    assert all(
        canonical_emotion(spelling) == name and spelling == spelling.strip() for spelling, name in vocabulary.items()
    )


# -- models that keep a property, and models built to break one -----------------------------------------------------


class Brightness(ClassifierMixin, BaseEstimator):
    """Honest: an image's answer is a function of its own mean brightness (mirror, batch and order blind)."""

    def fit(self, X, y=None):
        self.classes_ = np.array(["dark", "light"])
        return self

    def predict_proba(self, X):
        light = np.asarray(X, float).reshape(len(X), -1).mean(axis=1) / 255
        return np.column_stack([1 - light, light])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class LeftOrRight(Brightness):
    """Asymmetric: says which half of the image, left or right, is brighter."""

    def __init__(self, image_shape=None):
        self.image_shape = image_shape

    def fit(self, X, y=None):
        self.image_shape_ = self.image_shape
        self.classes_ = np.array(["left", "right"])
        return self

    def predict_proba(self, X):
        h, w = self.image_shape_
        pictures = np.asarray(X, float).reshape(len(X), h, w)
        left, right = pictures[:, :, : w // 2].mean(axis=(1, 2)), pictures[:, :, w - w // 2 :].mean(axis=(1, 2))
        p = 1 / (1 + np.exp(left - right))
        return np.column_stack([1 - p, p])


class BatchMates(Brightness):
    """Batch-dependent: each batch of ``batch_size`` images is compared with its own mean, as BatchNorm in
    training mode would."""

    def __init__(self, batch_size=4):
        self.batch_size = batch_size

    def predict_proba(self, X):
        light = np.asarray(X, float).reshape(len(X), -1).mean(axis=1) / 255
        for start in range(0, len(X), self.batch_size):
            light[start : start + self.batch_size] -= light[start : start + self.batch_size].mean() - 0.5
        light = np.clip(light, 0, 1)
        return np.column_stack([1 - light, light])


class RowNumber(Brightness):
    """Order-dependent: the answer leans on the row's place in X."""

    def predict_proba(self, X):
        light = np.asarray(X, float).reshape(len(X), -1).mean(axis=1) / 255
        light = (light + np.arange(len(X)) % 2) / 2
        return np.column_stack([1 - light, light])


class Scaler(TransformerMixin, BaseEstimator):
    """A transformer that divides by the batch's largest value: fails order independence only where it should not."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, float) / (np.asarray(X, float)[0].max() + 1)


def _pictures(n=4, h=4, w=6, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h * w)).astype(np.uint8)


def test_an_honest_model_keeps_every_property_without_hypothesis():
    X = _pictures(7)
    model = Brightness().fit(X)
    assert assert_mirror_consistent(model, X, image_shape=(4, 6)) == 1.0
    assert_batch_size_independent(model, X, batch_sizes=[1, 3])
    assert_order_independent(model, X)


@FAST
@given(X=images(st.integers(2, 8), image_size=(4, 6)))
def test_an_asymmetric_model_fails_mirror_consistency_saying_on_how_many_images(X):
    model = make_pipeline(LeftOrRight(image_shape=(4, 6))).fit(X)  # image_shape_ found through the Pipeline
    labels = model.predict(X)
    mirrored = model.predict(X.reshape(-1, 4, 6)[:, :, ::-1].reshape(len(X), -1))
    changed = int((labels != mirrored).sum())
    agreement = (len(X) - changed) / len(X)
    if changed:
        with pytest.raises(AssertionError, match=rf"label changed on {changed} of {len(X)} images when mirrored"):
            assert_mirror_consistent(model, X, min_agreement=1.0)
    assert assert_mirror_consistent(model, X, min_agreement=agreement) == agreement  # kept / n, exactly


def test_mirror_consistency_mirrors_left_and_right_not_up_and_down():
    model = LeftOrRight(image_shape=(4, 6)).fit(None)
    right = np.concatenate([np.zeros((6, 4, 3)), np.full((6, 4, 3), 200.0)], axis=2)  # the right half brighter
    message = (
        r"on 6 of 6 images when mirrored: agreement 0.0%, below the 50.0% asked for; image 0: 'right' became 'left'"
    )
    for X in (right.reshape(6, -1), right):  # rows, mirrored as the fitted image_shape_ says, or (n, h, w) images
        with pytest.raises(AssertionError, match=message):
            assert_mirror_consistent(model, X, min_agreement=0.5)
    below = np.concatenate([np.zeros((6, 2, 6)), np.full((6, 2, 6), 200.0)], axis=1)  # the lower half brighter
    assert assert_mirror_consistent(model, below.reshape(6, -1)) == 1.0
    with pytest.raises(ValueError, match=r"min_agreement must be a share in \[0, 1\]"):
        assert_mirror_consistent(model, below, min_agreement=90)


@FAST
@given(X=images(st.integers(3, 9), image_size=4), batch_size=st.integers(1, 3))
def test_a_batch_dependent_model_fails_and_gets_its_batch_size_back(X, batch_size):
    model = BatchMates(batch_size=2).fit(X)
    alone = np.concatenate([model.predict_proba(row[None]) for row in X])
    model.set_params(batch_size=batch_size)
    differs = ~np.isclose(model.predict_proba(X), alone, rtol=1e-5, atol=1e-6).all(axis=1)
    model.set_params(batch_size=2)
    together = ~np.isclose(model.predict_proba(X), alone, rtol=1e-5, atol=1e-6).all(axis=1)
    if together.any():
        message = rf"predict_proba changed on {together.sum()} of {len(X)} images predicted together rather than each"
    elif differs.any():
        message = rf"changed on {differs.sum()} of {len(X)} images predicted with batch_size={batch_size} rather"
    else:
        message = None
    if message is None:
        assert_batch_size_independent(model, X, batch_sizes=[batch_size])
    else:
        with pytest.raises(AssertionError, match=message):
            assert_batch_size_independent(model, X, batch_sizes=[batch_size])
    assert model.batch_size == 2


def test_batch_size_is_set_through_a_pipeline_and_calls_of_that_many_images_without_one():
    X = np.vstack([np.zeros((2, 16)), np.full((2, 16), 255.0)])
    pipeline = Pipeline([("mates", BatchMates(batch_size=4))]).fit(X)
    with pytest.raises(AssertionError, match=r"on 4 of 4 images predicted together"):
        assert_batch_size_independent(pipeline, X)
    assert pipeline.get_params()["mates__batch_size"] == 4

    class SmallBatches(BatchMates):  # turned around by a batch_size below 3
        def predict_proba(self, X):
            proba = Brightness.predict_proba(self, X)
            return proba[:, ::-1] if self.batch_size < 3 else proba

    y = np.array(["dark", "dark", "light", "light"])
    search = GridSearchCV(SmallBatches(), {"batch_size": [4]}, cv=2).fit(np.vstack([X, X]), np.concatenate([y, y]))
    with pytest.raises(AssertionError, match=r"on 4 of 4 images predicted with batch_size=2 rather than each alone"):
        assert_batch_size_independent(search, X, batch_sizes=[3, 2])  # set on the search's best estimator
    assert search.best_estimator_.batch_size == 4

    class EvenCalls(Brightness):  # no parameter to set, but its answers depend on how many images come in a call
        def predict_proba(self, X):
            return super().predict_proba(X) if len(X) % 2 else super().predict_proba(X)[:, ::-1]

    with pytest.raises(AssertionError, match=r"on 2 of 3 images predicted in calls of 2 rather than each alone"):
        assert_batch_size_independent(EvenCalls().fit(X), X[:3], batch_sizes=[3, 2])
    with pytest.raises(ValueError, match="batch_sizes must be whole numbers >= 1"):
        assert_batch_size_independent(pipeline, X, batch_sizes=[0])


@FAST
@given(X=images(st.integers(2, 8), image_size=4), data=st.data())
def test_an_order_dependent_model_fails_order_independence_naming_the_images(X, data):
    model = RowNumber().fit(X)
    order = np.array(data.draw(st.permutations(range(len(X)))))
    moved = np.flatnonzero(order % 2 != np.arange(len(X)) % 2)  # rows whose parity, so answer, changed
    if len(moved):
        with pytest.raises(AssertionError, match=rf"changed on {len(moved)} of {len(X)} images when the rows were"):
            assert_order_independent(model, X, order=order)
    else:
        assert_order_independent(model, X, order=order)


def test_order_independence_takes_transformers_and_refuses_what_is_not_a_permutation():
    X = np.arange(12.0).reshape(3, 4)
    with pytest.raises(AssertionError, match=r"transform changed on 3 of 3 images when the rows were permuted"):
        assert_order_independent(Scaler().fit(X), X, order=[2, 0, 1])
    assert_order_independent(Brightness().fit(X), X, random_state=None)
    with pytest.raises(ValueError, match=r"order must be a permutation of range\(3\)"):
        assert_order_independent(Brightness().fit(X), X, order=[0, 0, 1])


# -- fersk's own estimators -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    X, y = make_faces(42, image_size=16, emotions=["happy", "sad", "surprise"], random_state=0)
    cnn = CNNClassifier(max_epochs=1, module__channels=(4, 8), module__hidden=8, batch_size=16, random_state=0)
    hog = make_pipeline(HOGTransformer(pixels_per_cell=(4, 4)), LogisticRegression(max_iter=200))
    return {"cnn": cnn.fit(X, y), "hog": hog.fit(X, y), "classes": sorted(set(y))}


@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=faces(st.integers(1, 5), image_size=16, emotions=["happy", "sad", "surprise"]))
def test_fersk_models_keep_the_properties_and_flip_tta_keeps_every_label_mirrored(fitted, data):
    X, _ = data
    for name in ("cnn", "hog"):  # a network, and a Pipeline without a batch_size
        assert_batch_size_independent(fitted[name], X, batch_sizes=[3])
        assert_order_independent(fitted[name], X)
    cnn = fitted["cnn"].set_params(tta="flip")
    try:
        assert assert_mirror_consistent(cnn, X, min_agreement=1.0) == 1.0
    finally:
        cnn.set_params(tta=None)
