"""``fersk predict --coverage`` and ``--abstain-precision``: prediction sets and "unsure" in the rows and drawings."""

import csv

import numpy as np
import pytest
from PIL import Image

import fersk
from fersk.classifiers import calibrate
from fersk.cli import main

NET = dict(module__channels=(8, 16), max_epochs=2, lr=1e-2, batch_size=16, augment="none", random_state=0)


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    X, y = fersk.make_faces(300, image_size=24, emotions=["happy", "sad", "surprise"], random_state=0)
    net = fersk.CNNClassifier(**NET, early_stopping=None, validation_fraction=0).fit(X[:150], y[:150])
    plain = fersk.save(net, folder / "plain.fersk")
    calibrated = fersk.save(calibrate(net, X[150:], y[150:]), folder / "calibrated.fersk")
    return plain, calibrated


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    X, _ = fersk.make_faces(4, image_size=24, emotions=["happy", "sad", "surprise"], random_state=7)
    paths = [folder / f"face{i}.png" for i in range(len(X))]
    for path, x in zip(paths, X):
        Image.fromarray(x.reshape(24, 24).astype(np.uint8)).save(path)
    return [str(p) for p in paths]


def test_predict_writes_the_set_and_unsure_columns(model_files, photos, tmp_path, capsys):
    _, calibrated = model_files
    out = tmp_path / "rows.csv"
    args = ["predict", *photos, "--model", str(calibrated), "--detector", "none", "--csv", str(out)]
    assert main([*args, "--coverage", "0.9", "--abstain-precision", "0.2", "--annotate", str(tmp_path / "drawn")]) == 0
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[8:11] == ["predicted", "prediction_set", "unsure"]
    model = fersk.load(calibrated)
    faces = np.stack([np.asarray(Image.open(p), dtype=np.float32).reshape(-1) for p in photos])
    sets = model.predict_sets(faces, coverage=0.9)
    for row, kept in zip(rows, sets):
        assert set(row["prediction_set"].split("|")) == set(model.classes_[kept])
        assert row["prediction_set"].split("|")[0] == row["predicted"]
        assert row["unsure"] in ("True", "False")
    err = capsys.readouterr().err
    assert f"prediction sets at 90% coverage: the classes at least {model.set_threshold(0.9):.3f} probable" in err
    assert "(from 150 validation faces)" in err
    assert f"unsure below a top probability of {model.unsure_threshold(0.2):.3f}" in err
    assert len(list((tmp_path / "drawn").glob("*.png"))) == len(photos)


def test_predict_without_the_options_keeps_its_columns(model_files, photos, capsys):
    _, calibrated = model_files
    assert main(["predict", photos[0], "--model", str(calibrated), "--detector", "none"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split("\t")
    assert "prediction_set" not in header and "unsure" not in header


def test_an_uncalibrated_model_is_refused_saying_how_to_calibrate_it(model_files, photos, capsys):
    plain, _ = model_files
    assert main(["predict", *photos, "--model", str(plain), "--detector", "none", "--coverage", "0.9"]) == 2
    err = capsys.readouterr().err
    assert "fersk predict: prediction sets need the calibration scores" in err
    assert "fersk.calibrate(model, X_val, y_val)" in err


@pytest.mark.parametrize("value", ["90", "0", "1", "high"])
def test_a_coverage_outside_zero_to_one_is_refused_by_the_parser(model_files, photos, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", photos[0], "--coverage", value])
    assert exit_info.value.code == 2
    assert "takes a number between 0 and 1, such as 0.9" in capsys.readouterr().err
