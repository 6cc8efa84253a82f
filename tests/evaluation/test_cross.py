import json

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from fersk.evaluation import (
    cross_dataset_evaluation,
    cross_dataset_table,
    plot_cross_dataset,
    write_json,
)


@pytest.fixture(scope="module")
def prior_model():
    """Predicts by class frequency alone: contempt 5, happy 3, sad 2."""
    y = np.array(["contempt"] * 5 + ["happy"] * 3 + ["sad"] * 2)
    return DummyClassifier(strategy="prior").fit(np.zeros((10, 4)), y)


def test_classes_the_dataset_lacks_are_never_predicted(prior_model):
    X, y = np.zeros((4, 4)), np.array(["happy", "happy", "sad", "happy"])
    result = cross_dataset_evaluation({"prior": prior_model}, {"d": (X, y)})
    cell = result["scores"]["prior"]["d"]
    # contempt is the model's top class, but the dataset has no contempt: happy is its best shared guess
    assert cell["accuracy"] == 0.75
    assert cell["not_in_dataset"] == ["contempt"]
    assert cell["classes"] == ["happy", "sad"]
    assert cell["confusion_matrix"] == [[3, 0], [1, 0]]


def test_images_of_classes_the_model_lacks_are_left_out_and_counted(prior_model):
    X = np.zeros((6, 4))
    y = np.array(["happy", "fear", "fear", "sad", "surprise", "happy"])
    cell = cross_dataset_evaluation({"prior": prior_model}, {"d": (X, y)})["scores"]["prior"]["d"]
    assert cell["excluded"] == {"fear": 2, "surprise": 1}
    assert cell["n_samples"] == 3
    assert cell["accuracy"] == pytest.approx(2 / 3, abs=1e-4)


def test_models_as_rows_datasets_as_columns_with_real_classifiers(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = np.where(X[:, 0] > 0, "happy", "sad")
    good = LogisticRegression().fit(X, y)
    blind = LogisticRegression().fit(X[:, ::-1] * [1, 1, 1, 1, 0], y)  # ignores the feature that matters
    datasets = {"A": (X[:100], y[:100]), "B": (X[100:], y[100:])}
    result = cross_dataset_evaluation({"good": good, "blind": blind}, datasets)
    assert result["models"] == ["good", "blind"] and result["datasets"] == ["A", "B"]
    for dataset, (X_part, y_part) in datasets.items():
        for name, model in (("good", good), ("blind", blind)):
            cell = result["scores"][name][dataset]  # both classes shared: scikit-learn's own figures
            assert cell["accuracy"] == pytest.approx(model.score(X_part, y_part), abs=1e-4)
            assert cell["macro_f1"] == pytest.approx(f1_score(y_part, model.predict(X_part), average="macro"), abs=1e-3)
        assert result["scores"]["good"][dataset]["accuracy"] > 0.9 > result["scores"]["blind"][dataset]["accuracy"]
    path = write_json(result, tmp_path / "cross.json")
    assert json.loads(path.read_text())["scores"]["good"]["A"]["accuracy"] == result["scores"]["good"]["A"]["accuracy"]
    table = cross_dataset_table(result)
    assert table.splitlines()[0] == "| model | A | B |"
    good_row = next(line for line in table.splitlines() if line.startswith("| good |"))
    assert f"{result['scores']['good']['B']['accuracy']:.2%}" in good_row
    fig = plot_cross_dataset(result, metric="macro_f1")
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert shown[0] == f"{result['scores']['good']['A']['macro_f1']:.3f}"
    assert len(shown) == 4


def test_the_table_names_what_was_left_out(prior_model):
    X, y = np.zeros((3, 4)), np.array(["happy", "fear", "sad"])
    table = cross_dataset_table(cross_dataset_evaluation({"prior": prior_model}, {"d": (X, y)}))
    assert "prior on d: left out 1 images labelled fear" in table
    assert "prior on d: never predicts contempt" in table


def test_bad_input_is_refused_with_a_reason(prior_model):
    with pytest.raises(ValueError, match="share no class"):
        cross_dataset_evaluation({"prior": prior_model}, {"d": (np.zeros((2, 4)), np.array(["fear", "anger"]))})
    with pytest.raises(ValueError, match="not fitted"):
        cross_dataset_evaluation({"new": DummyClassifier()}, {"d": (np.zeros((2, 4)), np.array(["a", "b"]))})
    with pytest.raises(ValueError, match="3 images and 2 labels"):
        cross_dataset_evaluation({"prior": prior_model}, {"d": (np.zeros((3, 4)), np.array(["happy", "sad"]))})
    with pytest.raises(ValueError, match="at least one model"):
        cross_dataset_evaluation({}, {"d": (np.zeros((2, 4)), np.array(["happy", "sad"]))})


def test_photos_go_through_the_detector_and_face_crops_do_not(tmp_path):
    from PIL import Image
    from skimage.data import astronaut

    from fersk.evaluation import load_test_faces
    from fersk.preprocessing import crop_faces

    photo = Image.fromarray(astronaut()).resize((256, 256))
    for i in range(10):
        folder = tmp_path / "photos" / ("happy" if i % 2 else "sad")
        folder.mkdir(parents=True, exist_ok=True)
        photo.save(folder / f"{i}.png")
        (tmp_path / "crops" / folder.name).mkdir(parents=True, exist_ok=True)
        photo.resize((48, 48)).save(tmp_path / "crops" / folder.name / f"{i}.png")
    faces = load_test_faces(tmp_path / "photos", random_state=0, cache_dir=False)
    assert faces.detector == "mtcnn" and faces.data.shape == (2, 48 * 48)
    expected, _ = crop_faces([photo])
    # each photo's face, framed as crop_faces frames it: to a grey level or two in a few pixels, as MTCNN's box moves
    # by a hair with the batch it is found in (two photos here, one there)
    difference = np.abs(faces.data - expected)
    assert difference.max() <= 2 and difference.mean() < 0.01
    whole = load_test_faces(tmp_path / "photos", detector="none", random_state=0, cache_dir=False)
    assert whole.detector is None and np.abs(whole.data - expected).max() > 50
    crops = load_test_faces(tmp_path / "crops", random_state=0, cache_dir=False)
    assert crops.detector is None and crops.data.shape == (2, 48 * 48)
