"""The pretrained FER2013 model shipped in the package, on real PrivateTest faces."""

import numpy as np
import pytest

import fersk

pytestmark = pytest.mark.realdata


def test_the_shipped_fer2013_model_predicts_real_faces(shared_data):
    path = fersk.pretrained_path("fer2013")
    assert path.stat().st_size < 10e6
    assert (path.parent / "fer2013.md").read_text().startswith("# fersk pretrained model")
    model = fersk.load_pretrained("fer2013")
    assert model.classes_.tolist() == ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    data = fersk.load_fer2013(shared_data / "fer2013", subset="test")
    private = data.usage == "PrivateTest"
    X, y = data.data[private][:1000], data.target[private][:1000]
    assert np.mean(model.predict(X) == y) > 0.6  # chance is 0.25 (always "happy")


def test_the_shipped_model_is_a_transfer_source(shared_data):
    X, y = fersk.make_faces(70, image_size=48, random_state=0)
    model = fersk.TransferClassifier(
        "fernet", weights=str(fersk.pretrained_path("fer2013")), max_epochs=1, head_epochs=1, lr=0.0
    ).fit(X, y)
    source = fersk.load_pretrained("fer2013").module_.state_dict()
    for key, value in model.module_.state_dict().items():
        if key.startswith("body.") and "num_batches" not in key:
            np.testing.assert_array_equal(value.cpu().numpy(), source[key].cpu().numpy())
