"""Calibration and consistency in the report folders, and the confusion matrix drawn by scikit-learn."""

import json
import re

import numpy as np
import pytest

from fersk import make_faces
from fersk.evaluation import (
    calibration_table,
    classification_metrics,
    evaluate,
    plot_confusion_matrix,
    write_evaluation,
    write_report,
)

from ..classifiers.test_estimators import hog


@pytest.fixture(scope="module")
def fitted():
    X, y = make_faces(180, image_size=24, difficulty=0.2, random_state=2)
    model = hog().fit(X[:120], y[:120])
    return model, X[120:], y[120:], evaluate(model, X[120:], y[120:], random_state=0)


def test_write_evaluation_gives_calibration_and_consistency(fitted, tmp_path):
    model, _, _, result = fitted
    out = write_evaluation(tmp_path / "one", model, result, model="hog", data="synthetic")
    assert {"metrics.json", "report.md", "reliability.png", "confusion.png"} <= {p.name for p in out.iterdir()}
    assert (out / "reliability.png").stat().st_size > 1000
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["ece"] == result["ece"] and metrics["consistency"] == result["consistency"]
    report = (out / "report.md").read_text()
    assert "## Calibration" in report and "## Consistency" in report
    assert f"| hog | {result['ece']:.3f} |" in report
    mirror = result["consistency"]["changes"]["mirror"]
    assert f"| mirrored | {mirror['agreement']:.2%} | {mirror['accuracy']:.2%} |" in report
    for name in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report):
        assert (out / name).is_file(), name
    # without consistency the report says nothing of it
    quiet = write_evaluation(tmp_path / "two", model, {k: v for k, v in result.items() if k != "consistency"})
    assert "## Consistency" not in (quiet / "report.md").read_text()


def test_write_report_gives_calibration_and_consistency(fitted, tmp_path):
    model, X_test, y_test, result = fitted
    write_report(tmp_path, {"HOG+SVM": model}, {"HOG+SVM": result}, X_test, y_test, description="synthetic")
    report = (tmp_path / "report.md").read_text()
    assert "## Calibration" in report and "## Consistency" in report
    assert "![reliability diagram](reliability-hog-svm.png)" in report
    assert (tmp_path / "reliability-hog-svm.png").stat().st_size > 1000


def test_calibration_table_mean_confidence_is_weighted_by_count():
    bins = {"ece": 0.1, "n_bins": 15, "bins": [{"count": 3, "confidence": 0.9}, {"count": 1, "confidence": 0.5}]}
    table = calibration_table({"m": {"accuracy": 0.7, "ece": 0.1, "reliability": bins}, "svm": {"accuracy": 0.6}})
    assert "| m | 0.100 | 80.00% | 70.00% |" in table
    assert "| svm | no probabilities | | 60.00% |" in table


def test_confusion_matrix_is_drawn_by_scikit_learn():
    m = classification_metrics(["a", "a", "a", "b"], ["a", "a", "b", "b"])
    ax = plot_confusion_matrix(m, title="t").axes[0]
    assert ax.get_title() == "t" and ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    np.testing.assert_allclose(ax.images[0].get_array(), [[2 / 3, 1 / 3], [0, 1]], atol=1e-4)  # as stored
    assert [t.get_text().split() for t in ax.texts] == [
        ["0.67", "(2)"],
        ["0.33", "(1)"],
        ["0.00", "(0)"],
        ["1.00", "(1)"],
    ]
    counts = plot_confusion_matrix(m, normalize=False).axes[0]
    assert [t.get_text() for t in counts.texts] == ["2", "1", "0", "1"]
    np.testing.assert_array_equal(counts.images[0].get_array(), [[2, 1], [0, 1]])
