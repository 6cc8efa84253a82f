"""The prediction path: the folded network, the views in one pass, the same probabilities as the plain network."""

import numpy as np
import pytest
import torch

from fersk import CNNClassifier, TransferClassifier, make_faces
from fersk.training import tta_views


@pytest.fixture(scope="module")
def faces():
    return make_faces(120, image_size=32, random_state=0)


def plain_proba(clf, X, tta):
    """What predict_proba computed before: each view through the unfolded network, softmax averaged."""
    x = torch.as_tensor(clf._to_tensors(X), device=clf.device_)
    clf.module_.eval()
    with torch.no_grad():
        views = tta_views(x, tta)
        return (sum(torch.softmax(clf.module_(v), dim=1) for v in views) / len(views)).cpu().numpy()


@pytest.mark.parametrize("tta", [None, "flip", "crops"])
def test_predict_proba_is_the_plain_networks_average_over_views(faces, tta):
    X, y = faces
    clf = CNNClassifier(max_epochs=1, module__channels=(8, 16), batch_size=16, tta=tta, random_state=0).fit(X, y)
    # 50 faces in batches of 16: views of one batch share forward passes of 16 images
    np.testing.assert_allclose(clf.predict_proba(X[:50]), plain_proba(clf, X[:50], tta), atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X[:1]), plain_proba(clf, X[:1], tta), atol=1e-5)


def test_predictions_follow_the_weights_after_more_training(faces):
    X, y = faces
    clf = TransferClassifier("test_tiny", weights=None, head="mlp", max_epochs=1, head_epochs=0, random_state=0)
    before = clf.fit(X, y).predict_proba(X)
    features = clf.transform(X)
    clf.partial_fit(X, y)
    after = clf.predict_proba(X)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, plain_proba(clf, X, None), atol=1e-5)
    with torch.no_grad():
        expected = clf.module_.eval().embed(torch.as_tensor(clf._to_tensors(X), device=clf.device_)).cpu().numpy()
    np.testing.assert_allclose(clf.transform(X), expected, atol=1e-4)
    assert np.abs(clf.transform(X) - features).max() > 1e-4


@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_the_network_input_is_one_float32_array(dtype):
    # a float32 copy of the pixels, then divided by 255, held two: 352 MiB at the peak for 20,000
    # 48x48 faces whose network input takes 176 MiB (tracemalloc); now the division casts as it goes
    import tracemalloc

    clf = CNNClassifier()
    clf.image_shape_ = (24, 24, 1)
    X = np.random.default_rng(0).integers(0, 256, (2000, 24 * 24)).astype(dtype)
    tracemalloc.start()
    try:
        images = clf._to_tensors(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert images.dtype == np.float32 and images.shape == (2000, 1, 24, 24)
    np.testing.assert_array_equal(images, X.astype(np.float32).reshape(-1, 1, 24, 24) / np.float32(255))
    assert peak < 1.2 * images.nbytes


@pytest.mark.parametrize(
    "route", ["batch_size", "iterator_train__batch_size", "iterator_valid__batch_size"], ids=lambda r: r
)
def test_a_batch_size_of_minus_one_is_one_batch_of_all_the_data_as_in_skorch(faces, route):
    # skorch trains on batch_size=-1 as one batch of all the images; fersk's own batching (predictions,
    # their views, prior_shift="auto" on the validation set, transform) failed in numpy after training
    X, y = faces
    params = dict(max_epochs=1, module__channels=(8, 16), batch_size=16, tta="flip", prior_shift="auto")
    clf = CNNClassifier(**{**params, route: -1}, random_state=0).fit(X, y)
    batches = clf.history[-1, "batches"]
    n_train, n_valid = 108, 12  # validation_fraction=0.1 of 120
    train_sizes = [b["train_batch_size"] for b in batches if "train_batch_size" in b]
    valid_sizes = [b["valid_batch_size"] for b in batches if "valid_batch_size" in b]
    assert train_sizes == ([n_train] if route != "iterator_valid__batch_size" else [16] * 6 + [12])
    assert valid_sizes == ([n_valid] if route != "iterator_train__batch_size" else [12])
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 7)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    # the probabilities do not depend on how the images are batched
    np.testing.assert_allclose(clf.set_params(**{route: 7}).predict_proba(X), proba, rtol=1e-5, atol=1e-6)
    assert clf.set_params(**{route: -1}).transform(X[:5]).shape[0] == 5


@pytest.mark.parametrize("route", ["iterator_train__batch_size", "iterator_valid__batch_size"])
@pytest.mark.parametrize("size", [0, -2, 1.5])
def test_the_batch_size_routes_are_checked_as_batch_size_is(faces, route, size):
    X, y = faces
    with pytest.raises(ValueError, match=f"The '{route}' parameter of CNNClassifier must be"):
        CNNClassifier(max_epochs=1, module__channels=(8, 16), **{route: size}).fit(X, y)
