"""``fersk evaluate`` reports calibration and consistency, and can leave consistency out."""

import json

import numpy as np
import pytest
from sklearn.utils import Bunch

import fersk
from fersk import make_faces
from fersk.cli import main
from fersk.datasets import train_test_parts
from fersk.evaluation import consistency, expected_calibration_error

DATA = ["--n-samples", "140", "--image-size", "24"]


@pytest.fixture(scope="module")
def hog_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("trust") / "hog.fersk"
    assert main(["train", "--model", "hog", "--out", str(path), *DATA, "--quiet"]) == 0
    return path


def tiny_test_faces():
    """The test part of the synthetic faces that ``DATA`` describes, drawn as the CLI draws them."""
    X, y = make_faces(140, image_size=24, difficulty=0.3, random_state=0)  # DATA, and the CLI's defaults
    *_, X_test, y_test, _ = train_test_parts(Bunch(data=X, target=y), random_state=0)
    return X_test, y_test


def test_evaluate_reports_calibration_and_consistency(hog_file, tmp_path, capsys):
    out = tmp_path / "evaluation"
    assert main(["evaluate", str(hog_file), "--out", str(out), *DATA]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    # the figures are those of the saved model on the same test faces, recomputed here with the CLI's seed
    X_test, y_test = tiny_test_faces()
    model = fersk.load(hog_file)
    ece = expected_calibration_error(y_test, model.predict_proba(X_test), classes=model.classes_)
    assert metrics["ece"] == pytest.approx(ece, abs=1e-4)
    assert metrics["consistency"] == consistency(model, X_test, y_test, random_state=0)
    assert f"| {hog_file} | {metrics['ece']:.3f} |" in printed
    for row in metrics["consistency"]["changes"].values():
        assert f"| {row['description']} | {row['agreement']:.2%} | {row['accuracy']:.2%} |" in printed
    assert {"reliability.png", "report.md"} <= {p.name for p in out.iterdir()}
    report = (out / "report.md").read_text()
    assert "## Calibration" in report and "## Consistency" in report


def test_evaluate_without_consistency(hog_file, tmp_path, capsys):
    out = tmp_path / "quick"
    assert main(["evaluate", str(hog_file), "--out", str(out), "--no-consistency", *DATA]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert "consistency" not in metrics and "ece" in metrics
    assert "same label" not in printed and "calibration" in printed
    assert "## Consistency" not in (out / "report.md").read_text()
    assert np.isfinite(metrics["ece"])
