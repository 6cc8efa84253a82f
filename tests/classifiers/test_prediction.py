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
    x = torch.as_tensor(clf._to_tensors(X), device=clf.device)
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
        expected = clf.module_.eval().embed(torch.as_tensor(clf._to_tensors(X), device=clf.device)).cpu().numpy()
    np.testing.assert_allclose(clf.transform(X), expected, atol=1e-4)
    assert np.abs(clf.transform(X) - features).max() > 1e-4
