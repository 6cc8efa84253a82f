import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from fersk import make_faces
from fersk.evaluation import (
    CHANGES,
    apply_change,
    consistency,
    consistency_table,
    evaluate,
    expected_calibration_error,
)

from ..classifiers.test_estimators import cnn, hog

SIDE = 24


def symmetrize(X):
    """Each face plus its mirror image: a model fed this answers a face and its mirror alike, exactly."""
    images = np.asarray(X, dtype=np.float64).reshape(len(X), SIDE, SIDE)
    return (images + images[:, :, ::-1]).reshape(len(X), -1)


class BrighterSide(ClassifierMixin, BaseEstimator):
    """Says which half of the face is brighter: a mirror swaps nearly every answer."""

    def fit(self, X, y=None):
        self.classes_ = np.array(["left", "right"])
        return self

    def predict(self, X):
        images = np.asarray(X, dtype=np.float64).reshape(len(X), SIDE, SIDE)
        left, right = images[:, :, : SIDE // 2].mean((1, 2)), images[:, :, SIDE // 2 :].mean((1, 2))
        return np.where(left > right, "left", "right")


@pytest.fixture(scope="module")
def faces():
    X, y = make_faces(200, image_size=SIDE, difficulty=0.2, random_state=1)
    return X[:140], y[:140], X[140:], y[140:]


@pytest.fixture(scope="module")
def hog_model(faces):
    X, y, _, _ = faces
    return hog().fit(X, y)


def test_mirror_agreement_is_total_for_a_symmetric_model_and_not_otherwise(faces, hog_model):
    X, y, X_test, y_test = faces
    symmetric = make_pipeline(FunctionTransformer(symmetrize), hog()).fit(X, y)  # a fersk estimator in a Pipeline
    result = consistency(symmetric, X_test, y_test, changes=["mirror"])
    assert result["changes"]["mirror"]["agreement"] == 1.0
    assert result["changes"]["mirror"]["accuracy"] == result["accuracy"]
    plain = consistency(hog_model, X_test, y_test, changes=["mirror"])["changes"]["mirror"]["agreement"]
    assert 0.5 < plain < 1.0  # HOG cells are not symmetric: some faces change label
    sided = BrighterSide().fit(X_test)
    assert consistency(sided, X_test, changes=["mirror"])["changes"]["mirror"]["agreement"] < 0.1


def test_every_change_is_measured_deterministically(faces, hog_model):
    _, _, X_test, y_test = faces
    result = consistency(hog_model, X_test, y_test, random_state=0)
    assert list(result["changes"]) == list(CHANGES) == ["mirror", "dark", "jpeg", "rotate", "noise"]
    assert result["n_samples"] == len(y_test)
    assert result["accuracy"] == pytest.approx(np.mean(hog_model.predict(X_test) == y_test), abs=1e-4)
    for name, row in result["changes"].items():
        changed = hog_model.predict(apply_change(X_test, name, random_state=np.random.default_rng([0, 0])))
        if name != "noise":  # the noise of consistency is seeded per change; the others draw nothing
            assert row["agreement"] == pytest.approx(np.mean(changed == hog_model.predict(X_test)), abs=1e-4)
            assert row["accuracy"] == pytest.approx(np.mean(changed == y_test), abs=1e-4)
    assert consistency(hog_model, X_test, y_test, random_state=0) == result
    # a change's figures do not depend on which others are measured with it
    alone = consistency(hog_model, X_test, y_test, changes=["noise"], random_state=0)
    assert alone["changes"]["noise"] == result["changes"]["noise"]
    json.dumps(result)
    without_labels = consistency(hog_model, X_test, changes="dark")
    assert "accuracy" not in without_labels and set(without_labels["changes"]["dark"]) == {"description", "agreement"}


def test_the_changes_do_what_they_say():
    flat = np.full((2, 16 * 16), 200.0, dtype=np.float32)
    gradient = np.tile(np.arange(16, dtype=np.float32) * 16, (16, 1)).reshape(1, -1)
    mirrored = apply_change(gradient, "mirror")
    assert mirrored.dtype == np.float32
    np.testing.assert_array_equal(mirrored.reshape(16, 16), gradient.reshape(16, 16)[:, ::-1])
    np.testing.assert_array_equal(apply_change(flat, "dark"), 140)
    np.testing.assert_array_equal(apply_change(flat, "rotate"), 200)  # the corners repeat the border, no black
    turned = apply_change(gradient, "rotate").reshape(16, 16)
    assert not np.array_equal(turned, gradient.reshape(16, 16)) and turned.min() >= 0
    compressed = apply_change(gradient, "jpeg")
    assert 0 < np.abs(compressed - gradient).mean() < 10
    noise = apply_change(np.full((50, 256), 128.0), "noise", random_state=0) - 128
    assert noise.std() == pytest.approx(10, abs=0.3) and abs(noise.mean()) < 0.3
    np.testing.assert_array_equal(
        apply_change(flat, "noise", random_state=3), apply_change(flat, "noise", random_state=3)
    )
    assert not np.array_equal(apply_change(flat, "noise", random_state=3), apply_change(flat, "noise", random_state=4))
    # images as 4-D RGB arrays, and a change of one's own
    rgb = np.random.default_rng(0).integers(0, 256, (3, 8, 10, 3)).astype(np.uint8)
    out = apply_change(rgb, "mirror")
    assert out.dtype == np.uint8 and out.shape == (3, 8 * 10 * 3)
    np.testing.assert_array_equal(out.reshape(rgb.shape), rgb[:, :, ::-1])
    np.testing.assert_array_equal(apply_change(flat, lambda image, rng: 255 - image), 55)


def test_a_network_with_a_flip_view_answers_a_mirror_alike(faces):
    X, y, X_test, _ = faces
    net = cnn().fit(X, y)
    mirrored = apply_change(X_test, "mirror")
    plain = np.abs(net.predict_proba(mirrored) - net.predict_proba(X_test)).max()
    net.set_params(tta="flip")
    np.testing.assert_allclose(net.predict_proba(mirrored), net.predict_proba(X_test), atol=1e-6)
    assert plain > 1e-4  # without the flip view the network is not symmetric


def test_image_shape_from_the_model_the_array_or_the_caller(faces):
    X, y, X_test, y_test = faces
    wide = np.concatenate([X.reshape(-1, SIDE, SIDE), X.reshape(-1, SIDE, SIDE)[:, :, :6]], axis=2)
    wide_test = np.concatenate([X_test.reshape(-1, SIDE, SIDE), X_test.reshape(-1, SIDE, SIDE)[:, :, :6]], axis=2)
    model = make_pipeline(FunctionTransformer(), LogisticRegression(max_iter=200)).fit(wide.reshape(len(X), -1), y)
    rows = wide_test.reshape(len(X_test), -1)
    with pytest.raises(ValueError, match="not a square grayscale image"):
        consistency(model, rows, y_test, changes=["mirror"])
    given = consistency(model, rows, y_test, changes=["mirror"], image_shape=(SIDE, SIDE + 6))
    carried = consistency(model, wide_test, y_test, changes=["mirror"])  # 3-D images carry their shape
    assert given == carried
    # a fersk estimator's image_shape_ is used where the rows fit it
    fitted = hog(image_shape=(SIDE, SIDE + 6)).fit(wide.reshape(len(X), -1), y)
    from_model = consistency(fitted, rows, y_test, changes=["mirror"])
    assert from_model == consistency(fitted, rows, y_test, changes=["mirror"], image_shape=(SIDE, SIDE + 6))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"changes": ["mirror", "blur"]}, "changes must be some of mirror, dark, jpeg, rotate, noise"),
        ({"changes": []}, "changes must be some of"),
        ({"changes": {"odd": 3}}, "must be a function"),
        ({"changes": {"crop": lambda image, rng: image[1:]}}, "must keep the image's shape"),
        ({"y": ["happy"]}, "60 images but y has 1 labels"),
        ({"X": np.full((3, SIDE * SIDE), 0.5)}, "pass X \\* 255"),
        ({"X": np.zeros((0, SIDE * SIDE))}, "0 images"),
    ],
)
def test_mistakes_are_named(faces, hog_model, kwargs, match):
    _, _, X_test, _ = faces
    arguments = {"X": X_test, **kwargs}
    with pytest.raises(ValueError, match=match):
        consistency(hog_model, **arguments)


def test_evaluate_reports_calibration_and_consistency(faces, hog_model):
    _, _, X_test, y_test = faces
    result = evaluate(hog_model, X_test, y_test, random_state=0)
    assert result["consistency"] == consistency(hog_model, X_test, y_test, random_state=0)
    assert result["reliability"]["n_bins"] == 15 and result["ece"] == result["reliability"]["ece"]
    assert sum(b["count"] for b in result["reliability"]["bins"]) == len(y_test)
    off = evaluate(hog_model, X_test, y_test, consistency=False, n_bins=5)
    assert "consistency" not in off and off["reliability"]["n_bins"] == 5
    no_proba = make_pipeline(FunctionTransformer(), RidgeClassifier(solver="lsqr")).fit(*faces[:2])
    plain = evaluate(no_proba, X_test, y_test, consistency=False)
    assert "ece" not in plain and "reliability" not in plain
    # a label the model does not know counts as wrong, as in the accuracy, where expected_calibration_error refuses it
    y_other = np.where(y_test == "fear", "contempt", y_test)
    other = evaluate(hog_model, X_test, y_other, consistency=False, n_bins=1)  # one bin: |accuracy - confidence|
    proba = hog_model.predict_proba(X_test)
    right = hog_model.classes_[proba.argmax(1)] == y_other
    assert other["ece"] == pytest.approx(abs(right.mean() - proba.max(1).mean()), abs=1e-4)
    assert sum(b["count"] for b in other["reliability"]["bins"]) == len(y_other)
    with pytest.raises(ValueError, match="not among the classes"):
        expected_calibration_error(y_other, proba, classes=hog_model.classes_)


def test_consistency_table():
    a = {"accuracy": 0.5, "changes": {"mirror": {"description": "mirrored", "agreement": 0.9, "accuracy": 0.45}}}
    b = {"consistency": {**a, "accuracy": 0.6}}  # an evaluate() result carries it under "consistency"
    table = consistency_table({"a": a, "b": b})
    assert table.splitlines()[0] == (
        "| change | a same label | a accuracy, from 50.00% | b same label | b accuracy, from 60.00% |"
    )
    assert table.splitlines()[2] == "| mirrored | 90.00% | 45.00% | 90.00% | 45.00% |"
    with pytest.raises(ValueError, match="consistency=True"):
        consistency_table({"m": {"accuracy": 0.5}})
