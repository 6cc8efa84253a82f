"""The pretrained models shipped in the package, on real faces: FER2013 PrivateTest and muxspace test photos."""

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


def test_the_default_model_holds_up_on_photos_unlike_fer2013(shared_data):
    """fer2013-muxspace, the default of fersk predict, on 300 muxspace test photos it never saw, end to end."""
    import csv

    from fersk.evaluation import cross_dataset_evaluation
    from fersk.preprocessing import crop_faces

    path = fersk.pretrained_path("fer2013-muxspace")
    assert path.stat().st_size < 25e6
    assert "fer2013-muxspace" in (path.parent / "fer2013-muxspace.md").read_text().splitlines()[0]
    root = shared_data / "muxspace"
    with open(root / "data" / "split.csv") as f:
        rows = [row for row in csv.DictReader(f) if row["split"] == "test"][:300]
    with pytest.warns(UserWarning, match=r"no face found in \d+ of 300 images; used the whole image"):
        faces, kept = crop_faces([root / "images" / row["image"] for row in rows], on_missing="keep")
    labels = np.array([fersk.canonical_emotion(row["emotion"]) for row in rows])[kept]
    models = {name: fersk.load_pretrained(name) for name in ("fer2013", "fer2013-muxspace")}
    result = cross_dataset_evaluation(models, {"muxspace": (faces, labels)})
    accuracy = {name: result["scores"][name]["muxspace"]["accuracy"] for name in models}
    assert accuracy["fer2013-muxspace"] > 0.8 and accuracy["fer2013-muxspace"] > accuracy["fer2013"] + 0.1
