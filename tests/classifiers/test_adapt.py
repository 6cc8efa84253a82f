"""adapt_pretrained: the trained head kept when the labels are the model's, a new head on the trained body
when they are not, the shipped file and a model given as an estimator left as they were, bad input refused.

The fast tests train one epoch on twenty synthetic 48x48 faces. How adapting compares with the model as
shipped is measured by benchmarks/bench_adapt.py; the real-data test at the end holds the part of it that a
test can tell from noise (faces of another kind).
"""

import hashlib

import numpy as np
import pytest
import torch

import fersk
from fersk import HOGSVMClassifier, TransferClassifier, adapt_pretrained, make_faces
from fersk.io import pretrained_path

FER_CLASSES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


@pytest.fixture(scope="module")
def faces():
    return make_faces(20, image_size=48, random_state=0)


@pytest.fixture(scope="module")
def shipped():
    return fersk.load_pretrained("fer2013")


def parameters(model):
    """The network's learnable weights (not the BatchNorm statistics, which training in train mode moves)."""
    return {name: p.detach().clone() for name, p in model.module_.named_parameters()}


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_keeps_the_trained_head_when_the_classes_match(faces, shipped):
    X, y = faces
    # lr=0: the optimizer moves nothing, so every weight, the head's included, is the shipped model's
    model = adapt_pretrained(X, y, lr=0.0, max_epochs=1, random_state=0)
    assert type(model) is type(shipped)
    assert model.classes_.tolist() == FER_CLASSES
    assert model.warm_start and len(model.history_) == len(shipped.history_) + 1
    before, after = parameters(shipped), parameters(model)
    assert before.keys() == after.keys()
    for name in before:
        torch.testing.assert_close(after[name], before[name], rtol=0, atol=0, msg=name)
    # at its default learning rate the weights move, from the shipped ones and not far
    trained = parameters(adapt_pretrained(X, y, max_epochs=1, random_state=0))
    head = "head.4.weight"  # the last Linear of the shipped MLP head
    change = (trained[head] - before[head]).norm() / before[head].norm()
    assert 0 < change < 0.05


def test_keeps_the_model_classes_when_y_holds_some_of_them(faces):
    X, y = faces
    some = np.isin(y, ["happy", "sad", "neutral", "angry"])
    X, y = np.concatenate([X[some]] * 2), np.concatenate([y[some]] * 2)  # 22 faces of four classes
    model = adapt_pretrained(X, y, max_epochs=1, random_state=0)
    assert model.classes_.tolist() == FER_CLASSES
    assert model.predict_proba(X[:3]).shape == (3, 7)


def test_a_new_head_on_the_trained_body_when_the_classes_differ(faces, shipped):
    X, y = faces
    mood = np.where(np.isin(y, ["happy", "surprise"]), "positive", "other")
    # lr=0 and one epoch of the frozen-body phase: the body is the shipped model's, the head is new
    model = adapt_pretrained(X, mood, lr=0.0, max_epochs=1, random_state=0)
    assert isinstance(model, TransferClassifier)
    assert model.classes_.tolist() == ["other", "positive"]
    assert (model.backbone, model.weights, model.head) == ("fernet", "fer2013", "mlp")
    assert model.tta == shipped.tta and not model.warm_start
    before, after = parameters(shipped), parameters(model)
    for name in before:
        if name.startswith("body."):
            torch.testing.assert_close(after[name], before[name], rtol=0, atol=0, msg=name)
    assert after["head.4.weight"].shape == (2, 256)
    # an eighth class beside the seven: a new head over all eight
    eight = np.where(y == "happy", "contempt", y)
    eight[0] = "happy"
    assert adapt_pretrained(X, eight, max_epochs=1, random_state=0).classes_.tolist() == sorted(
        [*FER_CLASSES, "contempt"]
    )
    # keep_head=False asks for it with the model's own classes too, of the kind of head given
    new = adapt_pretrained(X, y, keep_head=False, head="linear", max_epochs=1, random_state=0)
    assert (new.weights, new.head, len(new.classes_)) == ("fer2013", "linear", 7)


def test_the_shipped_file_and_a_given_model_are_left_as_they_were(faces, shipped):
    X, y = faces
    path = pretrained_path("fer2013")
    stamp, hashed = path.stat().st_mtime_ns, digest(path)
    weights, params, epochs = parameters(shipped), shipped.get_params(deep=False), len(shipped.history_)
    buffers = {k: v.clone() for k, v in shipped.module_.state_dict().items()}
    adapted = adapt_pretrained(X, y, max_epochs=1, random_state=0)
    from_object = adapt_pretrained(X, y, model=shipped, max_epochs=1, random_state=0)
    assert from_object is not shipped and adapted is not shipped
    assert path.stat().st_mtime_ns == stamp and digest(path) == hashed
    assert len(shipped.history_) == epochs and not shipped.warm_start
    now = shipped.get_params(deep=False)
    assert all(now[k] == params[k] for k in ("lr", "max_epochs", "warm_start", "validation_fraction", "classes"))
    for name, value in shipped.module_.state_dict().items():
        torch.testing.assert_close(value, buffers[name], rtol=0, atol=0, msg=name)
    assert all(torch.equal(weights[k], p) for k, p in parameters(shipped).items())
    # the same seed, from the name or from the object: the same model
    np.testing.assert_array_equal(adapted.predict_proba(X), from_object.predict_proba(X))


def test_a_model_file_of_ones_own(tmp_path):
    X, y = make_faces(60, image_size=24, random_state=0)
    tiny = TransferClassifier("test_tiny", weights=None, max_epochs=1, head_epochs=0, random_state=0).fit(X, y)
    path = tmp_path / "mine.fersk"
    fersk.save(tiny, path)
    kept = adapt_pretrained(X, y, model=path, max_epochs=1, random_state=0)
    assert kept.backbone == "test_tiny" and kept.classes_.tolist() == FER_CLASSES and kept.warm_start
    new = adapt_pretrained(X, np.where(y == "happy", "yes", "no"), model=str(path), max_epochs=1, random_state=0)
    assert (new.backbone, new.weights, new.head) == ("test_tiny", str(path), "linear")


def test_the_adapted_model_saves_and_loads(faces, tmp_path):
    X, y = faces
    for i, labels in enumerate([y, np.where(y == "happy", "yes", "no")]):
        model = adapt_pretrained(X, labels, max_epochs=1, tta=None, random_state=0)
        loaded = fersk.load(fersk.save(model, tmp_path / f"{i}.fersk"))
        assert loaded.classes_.tolist() == model.classes_.tolist()
        np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), atol=1e-6)


def test_params_reach_the_estimator(faces):
    X, y = faces
    model = adapt_pretrained(X, y, max_epochs=1, tta=None, batch_size=8, augment="none", random_state=0)
    assert (model.tta, model.batch_size, model.augment, model.max_epochs) == (None, 8, "none", 1)
    # the settings it chooses give way to yours
    model = adapt_pretrained(X, y, max_epochs=2, fine_tune_layers=0, validation_fraction=0.2, early_stopping=1)
    assert (model.fine_tune_layers, model.validation_fraction, model.early_stopping) == (0, 0.2, 1)
    assert "valid_loss" in model.history_[-1]
    new = adapt_pretrained(X, np.where(y == "happy", "yes", "no"), max_epochs=1, fine_tune_layers="all")
    assert new.fine_tune_layers == "all"
    with pytest.raises(ValueError, match="lrr"):  # a misspelt parameter: the estimator's own check
        adapt_pretrained(X, y, max_epochs=1, lrr=0.1)


@pytest.mark.parametrize(
    ("labels", "kwargs", "match"),
    [
        # a synonym or a misspelling of the model's classes: refused, with the renaming that fixes it
        ({"happy": "happiness"}, {}, r"'happiness' -> 'happy'.*canonical_emotion.*keep_head=False"),
        ({"surprise": "suprise", "sad": "Sad"}, {}, r"'Sad' -> 'sad', 'suprise' -> 'surprise'"),
        ({"happy": "contempt"}, {"keep_head": True}, r"keep_head=True.*\['contempt'\].*drop the images"),
        ({"happy": "anger"}, {"keep_head": True}, r"keep_head=True.*'anger' -> 'angry'"),
        ({}, {"keep_head": "yes"}, "keep_head must be"),
        ({}, {"head": "linear"}, r"\['head'\] would build a new network"),
        ({}, {"module__dropout": 0.1}, r"\['module__dropout'\] would build"),
        ({}, {"warm_start": False}, r"sets \['warm_start'\] itself"),
        ({}, {"model": "fer2014"}, "neither a model fersk ships"),
    ],
)
def test_bad_input_is_refused(faces, labels, kwargs, match):
    X, y = faces
    y = np.array([labels.get(label, label) for label in y])
    with pytest.raises(ValueError, match=match):
        adapt_pretrained(X, y, max_epochs=1, **kwargs)


def test_too_few_faces(faces):
    X, y = faces
    with pytest.raises(ValueError, match="at least 10 labelled faces, and y holds 9"):
        adapt_pretrained(X[:9], y[:9])


def test_models_it_cannot_adapt(faces, shipped):
    X, y = faces
    with pytest.raises(ValueError, match="got a HOGSVMClassifier"):
        adapt_pretrained(X, y, model=HOGSVMClassifier())
    with pytest.raises(ValueError, match="not fitted"):
        adapt_pretrained(X, y, model=TransferClassifier("fernet", weights=None))
    with pytest.raises(ValueError, match=r"fersk.save\(model, path\)"):
        adapt_pretrained(X, np.where(y == "happy", "yes", "no"), model=shipped)
    with pytest.raises(ValueError, match="device="):
        adapt_pretrained(X, y, model=shipped, device="cpu")


@pytest.mark.realdata
def test_adapting_to_faces_of_another_kind_beats_the_shipped_model(shared_data):
    """300 muxspace photos (resized whole to 48x48: framed and lit unlike FER2013's crops) lift the shipped
    model's accuracy on 500 of the test photos from 60.4% to 73.6% (one view, seeded); 8 points are held.

    On FER2013's own faces, which the shipped model was trained on, adapting stays within a point of it
    (benchmarks/bench_adapt.py): that claim is the benchmark's, as a test could not tell it from noise.
    About 15 s on 2 idle cores.
    """
    from sklearn.model_selection import train_test_split

    root = shared_data / "muxspace"
    with pytest.warns(fersk.FerskDataWarning):  # the dataset's duplicates and unlabelled images, counted
        data = fersk.load_labeled_images(
            root / "images", root / "data" / "legend.csv", split_csv=root / "data" / "split.csv", image_size=48
        )
    split = np.asarray(data.split)

    def draw(part, n):
        among = np.flatnonzero(split == part)
        picked, _ = train_test_split(among, train_size=n, stratify=data.target[among], random_state=0)
        return data.data[picked], data.target[picked]

    (X, y), (X_test, y_test) = draw("train", 300), draw("test", 500)
    shipped = fersk.load_pretrained("fer2013").set_params(tta=None)
    adapted = adapt_pretrained(X, y, tta=None, random_state=0)
    before, after = shipped.score(X_test, y_test), adapted.score(X_test, y_test)
    assert after >= before + 0.08, (before, after)
