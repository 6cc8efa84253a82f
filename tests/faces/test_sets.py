"""analyze_faces with prediction sets and abstention: records, CSV columns, tables and drawings."""

import copy
import io

import numpy as np
import pytest

import fersk
from fersk.classifiers import calibrate
from fersk.faces import FaceRecord, analyze_faces, draw_faces, prediction_answers
from fersk.faces._draw import UNSURE_COLOUR

NET = dict(module__channels=(8, 16), max_epochs=3, lr=1e-2, batch_size=16, augment="none", random_state=0)


@pytest.fixture(scope="module")
def faces():
    X, y = fersk.make_faces(500, image_size=24, emotions=["happy", "sad", "surprise"], random_state=0)
    return X[:250], y[:250], X[250:450], y[250:450], X[450:]


@pytest.fixture(scope="module")
def model(faces):
    X_train, y_train, X_val, y_val, _ = faces
    net = fersk.CNNClassifier(**NET, early_stopping=None, validation_fraction=0).fit(X_train, y_train)
    return calibrate(net, X_val, y_val)


def test_each_record_holds_its_set_most_probable_first_and_whether_it_is_unsure(model, faces):
    X = faces[-1]
    records = analyze_faces(model, X, detector=None, coverage=0.9, abstain_precision=0.4)
    proba = model.predict_proba(X)
    sets = model.predict_sets(proba=proba, coverage=0.9)
    unsure = model.predict_unsure(proba=proba, precision=0.4)
    assert len(records) == len(X)
    for record, row, kept, doubt in zip(records, proba, sets, unsure):
        assert record.prediction_set[0] == record.predicted
        assert set(record.prediction_set) == set(model.classes_[kept])
        assert [record.probabilities[c] for c in record.prediction_set] == sorted(row[kept], reverse=True)
        assert record.unsure is bool(doubt)
    assert 1 < np.mean([len(r.prediction_set) for r in records]) < 3  # some sets of one, some larger
    summary = records.summary()
    assert summary["unsure"] == unsure.sum()
    assert summary["faces_with_several_classes"] == (sets.sum(axis=1) > 1).sum()
    assert "unsure at 40% precision" in records.describe()


def test_the_csv_and_frame_gain_the_columns_asked_for_after_predicted(model, faces):
    X = faces[-1][:5]
    both = analyze_faces(model, X, detector=None, coverage=0.9, abstain_precision=0.4)
    header = both.fields()
    assert header[header.index("predicted") + 1 : header.index("predicted") + 3] == ["prediction_set", "unsure"]
    buffer = io.StringIO()
    both.to_csv(buffer)
    lines = buffer.getvalue().splitlines()
    assert lines[0].split(",") == header
    first = dict(zip(header, lines[1].split(",")))
    assert first["prediction_set"] == "|".join(both[0].prediction_set)
    assert first["unsure"] == str(both[0].unsure)
    frame = both.to_frame()
    assert frame["prediction_set"].tolist() == ["|".join(r.prediction_set) for r in both]
    only_sets = analyze_faces(model, X, detector=None, coverage=0.8)
    assert "prediction_set" in only_sets.fields() and "unsure" not in only_sets.fields()
    assert only_sets[0].unsure is None
    plain = analyze_faces(model, X, detector=None)
    assert not {"prediction_set", "unsure"} & set(plain.fields())
    assert "prediction_set" not in plain[0].to_dict()


def test_a_model_without_scores_is_refused_before_any_image_is_read(model, faces):
    uncalibrated = copy.deepcopy(model)
    for name in ("temperature_", "conformal_scores_", "confidence_right_", "confidence_wrong_"):
        delattr(uncalibrated, name)
    with pytest.raises(ValueError, match=r"has none: .*fersk\.calibrate\(model, X_val, y_val\)"):
        analyze_faces(uncalibrated, ["no/such/photo.jpg"], coverage=0.9)
    with pytest.raises(ValueError, match=r"abstaining needs .*fersk\.calibrate"):
        analyze_faces(uncalibrated, ["no/such/photo.jpg"], abstain_precision=0.9)
    X_train, y_train, *_ = faces
    hog = fersk.HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X_train, y_train)
    with pytest.raises(ValueError, match="ends in a HOGSVMClassifier: fersk.calibrate"):
        analyze_faces(hog, ["no/such/photo.jpg"], coverage=0.9)
    with pytest.raises(ValueError, match="coverage must be a number between 0 and 1"):
        analyze_faces(model, ["no/such/photo.jpg"], coverage=90)


def test_prediction_answers_is_what_the_records_hold(model, faces):
    X = faces[-1][:8]
    records = analyze_faces(model, X, detector=None, coverage=0.9, abstain_precision=0.4)
    answers = prediction_answers(model, model.predict_proba(X), coverage=0.9, abstain_precision=0.4)
    assert answers == [{"prediction_set": r.prediction_set, "unsure": r.unsure} for r in records]


def test_drawings_show_the_set_and_unsure_in_grey():
    box, proba = (40, 30, 90, 95), {"sad": 0.5, "neutral": 0.4, "happy": 0.1}
    sure = FaceRecord(0, None, 0, True, box, 0.99, proba, "sad", ("sad",), False)
    several = FaceRecord(0, None, 0, True, box, 0.99, proba, "sad", ("sad", "neutral"), False)
    unsure = FaceRecord(0, None, 0, True, box, 0.99, proba, "sad", ("sad",), True)
    image = np.zeros((128, 160, 3))
    drawn = {name: draw_faces(image, [r]) for name, r in (("sure", sure), ("several", several), ("unsure", unsure))}
    edge = (slice(60, 190), 80)  # the box's left edge, enlarged twice
    assert drawn["sure"][edge].max(axis=0).tolist() == [58, 134, 255]  # sad's colour
    assert drawn["unsure"][edge].max(axis=0).tolist() == list(UNSURE_COLOUR)
    # the label band above the box is wider for "sad or neutral" and "unsure (sad 50%)" than for "sad 50%"
    band = (slice(0, 59), slice(80, 320))

    def width(picture):
        return int((picture[band].max(axis=2) > 0).any(axis=0).sum())

    assert width(drawn["several"]) > width(drawn["sure"])
    assert width(drawn["unsure"]) > width(drawn["sure"])
