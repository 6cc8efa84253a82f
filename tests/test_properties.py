"""Properties every fersk estimator and transformer keeps, checked by hypothesis on synthetic data.

Each classifier is fitted once per module; hypothesis then draws the inputs to the
fitted model (pixel arrays, batch sizes, orderings, labels) and checks a property that
holds for every input, not an output fixed in advance.
"""

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from fersk import FaceCropper, HOGTransformer, load_fer2013, load_image_folder, make_faces
from fersk.preprocessing import flatten_images
from fersk.testing import assert_batch_size_independent, assert_order_independent
from fersk.testing import images as pixel_rows

from .classifiers.test_estimators import FAMILIES

SIZE = 24
NEURAL = ["cnn", "transfer"]
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

images = pixel_rows(st.integers(1, 12), image_size=SIZE)
symmetric_images = pixel_rows(st.integers(1, 12), image_size=SIZE, mirror_symmetric=True)


@pytest.fixture(scope="module")
def faces():
    return make_faces(112, image_size=SIZE, difficulty=0.0, random_state=0)


@pytest.fixture(scope="module")
def fitted(faces):
    X, y = faces
    return {name: make().fit(X, y) for name, make in FAMILIES.items()}


@pytest.mark.parametrize("family", FAMILIES)
@FAST
@given(X=images)
def test_probabilities_are_distributions_and_predictions_are_classes(fitted, family, X):
    model = fitted[family]
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), len(model.classes_))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert set(model.predict(X)) <= set(model.classes_)


@pytest.mark.parametrize("family", FAMILIES)
@FAST
@given(X=images)
def test_flattened_and_image_shaped_input_give_identical_results(fitted, family, X):
    model = fitted[family]
    flat = model.predict_proba(X)
    np.testing.assert_array_equal(model.predict_proba(X.reshape(-1, SIZE, SIZE)), flat)
    np.testing.assert_array_equal(model.predict_proba(X.reshape(-1, SIZE, SIZE, 1)), flat)


@pytest.mark.parametrize("family", FAMILIES)
@FAST
@given(X=images, batch_size=st.integers(1, 16), data=st.data())
def test_a_prediction_does_not_depend_on_batch_size_or_batch_mates(fitted, family, X, batch_size, data):
    # each image alone against the images shuffled, together: the networks with batch_size set to it, HOG+SVM
    # given them in calls of that many images
    shuffled = X[data.draw(st.permutations(range(len(X))))]
    assert_batch_size_independent(fitted[family], shuffled, batch_sizes=[batch_size], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("family", NEURAL)
@FAST
@given(X=symmetric_images)
def test_flip_tta_on_a_mirror_symmetric_face_equals_no_tta(fitted, family, X):
    model = fitted[family]
    plain = model.predict_proba(X)
    model.set_params(tta="flip")
    try:
        flipped = model.predict_proba(X)
    finally:
        model.set_params(tta=None)
    np.testing.assert_allclose(flipped, plain, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_string_and_integer_labels_give_the_same_model(faces, family):
    X, y = faces
    by_name = FAMILIES[family]().fit(X, y)
    by_code = FAMILIES[family]().fit(X, np.searchsorted(by_name.classes_, y))
    np.testing.assert_array_equal(by_code.classes_, np.arange(len(by_name.classes_)))
    np.testing.assert_allclose(by_code.predict_proba(X), by_name.predict_proba(X), rtol=1e-6, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(
    value=st.integers(0, 255),
    size=st.integers(12, 40),
    orientations=st.integers(4, 12),
    cell=st.integers(3, 8),
)
def test_hog_of_a_constant_image_is_constant(value, size, orientations, cell):
    hog = HOGTransformer(orientations=orientations, pixels_per_cell=(cell, cell), cells_per_block=(1, 1))
    features = hog.fit_transform(np.full((2, size * size), value, dtype=np.uint8))
    assert np.all(features == features[0, 0])


TRANSFORMERS = {
    "hog": lambda: HOGTransformer(pixels_per_cell=(6, 6)),
    "face_cropper": lambda: FaceCropper(output_size=16, on_missing="whole"),
}


@pytest.mark.parametrize("name", TRANSFORMERS)
@settings(max_examples=10, deadline=None)
@given(X=images, data=st.data())
def test_transformers_map_each_image_on_its_own(name, X, data):
    transformer = TRANSFORMERS[name]().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random pixels hold no face: FaceCropper warns, keeps the image
        whole = transformer.transform(X)
        assert_order_independent(transformer, X, order=data.draw(st.permutations(range(len(X)))), rtol=0, atol=0)
        np.testing.assert_array_equal(transformer.transform(X.reshape(-1, SIZE, SIZE)), whole)
    assert np.all(np.isfinite(whole)) and len(whole) == len(X)


# -- which image arrays are taken as a stack of channels-last images ---------------------------

sides = st.integers(1, 9)
stacks = st.tuples(st.integers(1, 3), sides, sides, st.integers(1, 4))


@settings(max_examples=40, deadline=None)
@given(shape=stacks)
def test_channels_last_images_of_up_to_four_channels_are_never_refused(shape):
    # (n, 3, 48, 2), 3-pixel-high images of 2 channels, was refused as channels-first
    X = np.arange(np.prod(shape)).reshape(shape)
    flat, carried = flatten_images(X)
    assert carried == shape[1:]
    np.testing.assert_array_equal(flat, X.reshape(shape[0], -1))


@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(1, 3), sides, sides, st.integers(1, 9)), minus_one=st.integers(-1, 2))
def test_images_of_the_declared_shape_are_taken_as_given_and_channels_first_ones_refused(shape, minus_one):
    # the estimator's image_shape decides what the layout alone cannot (a -1 entry resolved as in reshape)
    n, h, w, c = shape
    declared = [h, w, c]
    if minus_one >= 0:
        declared[minus_one] = -1
    X = np.zeros(shape)
    assert flatten_images(X, tuple(declared))[1] == (h, w, c)
    if (c, h, w) != (h, w, c):
        with pytest.raises(ValueError, match=r"looks channels-first .* give X\.transpose\(0, 2, 3, 1\)"):
            flatten_images(X.transpose(0, 3, 1, 2), tuple(declared))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 3), channels=st.sampled_from([1, 3, 4]), h=st.integers(5, 20), w=st.integers(5, 20))
def test_undeclared_channels_first_images_are_refused_naming_image_shape_for_channels_last_ones(n, channels, h, w):
    # the way out for channels-last images of more than 4 channels that look so: image_shape
    message = rf"looks channels-first \(n, channels, height, width\).*pass image_shape=\({channels}, {h}, {w}\)$"
    with pytest.raises(ValueError, match=message):
        flatten_images(np.zeros((n, channels, h, w)))
    assert flatten_images(np.zeros((n, channels, h, w)), (channels, h, w))[1] == (channels, h, w)


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 4), h=st.integers(1, 20), w=st.integers(5, 20))
def test_a_single_image_is_refused_unless_image_shape_says_it_is_a_stack(c, h, w):
    # one (h, w, 1) face was taken for h images of w x 1 pixels (at predict: "X holds images of shape (16, 1, 1)")
    image = np.zeros((h, w, c))
    with pytest.raises(
        ValueError, match=rf"single image of shape \({h}, {w}, {c}\) .* give one image as X\[np\.newaxis\]; if X "
    ):
        flatten_images(image)
    with pytest.raises(ValueError, match=r"give one image as X\[np\.newaxis\]$"):
        flatten_images(image, (h, w, c))
    assert flatten_images(image, (w, c))[1] == (w, c, 1)
    assert flatten_images(image[np.newaxis])[1] == (h, w, c)


FER_CODES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
USAGES = ("Training", "PublicTest", "PrivateTest")
fer_rows = st.lists(
    st.tuples(st.integers(0, 6), arrays(np.uint8, (48, 48)), st.sampled_from(USAGES)), min_size=1, max_size=6
)


@settings(max_examples=10, deadline=None)
@given(rows=fer_rows)
def test_a_fer2013_csv_round_trips(rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fer2013.csv"
        lines = [f'{code},"{" ".join(map(str, px.ravel()))}",{usage}' for code, px, usage in rows]
        path.write_text("emotion,pixels,Usage\n" + "\n".join(lines) + "\n")
        data = load_fer2013(path, cache_dir=False)
    expected = sorted(rows, key=lambda row: USAGES.index(row[2]))  # by usage, then by row (a stable sort)
    np.testing.assert_array_equal(data.images, np.stack([px for _, px, _ in expected]))
    assert list(data.target) == [FER_CODES[code] for code, _, _ in expected]
    assert list(data.usage) == [usage for _, _, usage in expected]


@settings(max_examples=10, deadline=None)
@given(
    images_by_class=st.dictionaries(
        st.sampled_from(["happy", "sad", "surprise"]),
        st.lists(arrays(np.uint8, (10, 10)), min_size=1, max_size=3),
        min_size=1,
    )
)
def test_an_image_folder_round_trips(images_by_class):
    with tempfile.TemporaryDirectory() as tmp:
        for label, pixels in images_by_class.items():
            (Path(tmp) / label).mkdir()
            for i, px in enumerate(pixels):
                Image.fromarray(px).save(Path(tmp) / label / f"{i}.png")  # PNG: lossless
        data = load_image_folder(tmp, image_size=None, cache_dir=False)
    labels = sorted(images_by_class)
    np.testing.assert_array_equal(data.images, np.stack([px for label in labels for px in images_by_class[label]]))
    assert list(data.target) == [label for label in labels for _ in images_by_class[label]]
    np.testing.assert_array_equal(data.data, data.images.reshape(len(data.images), -1))
