import json

import numpy as np
import pytest

from fersk import make_faces
from fersk.evaluation import (
    classification_metrics,
    evaluate,
    plot_class_metrics,
    plot_confusion_matrix,
    plot_model_comparison,
    plot_prediction_grid,
    plot_training_curves,
    write_json,
)

from ..classifiers.test_estimators import cnn, hog, transfer


@pytest.fixture(scope="module")
def split():
    X, y = make_faces(140, image_size=24, difficulty=0.2, random_state=1)
    return X[:100], y[:100], X[100:], y[100:]


@pytest.fixture(scope="module")
def fitted(split):
    X, y, _, _ = split
    return {"hog": hog().fit(X, y), "transfer": transfer(max_epochs=3).fit(X, y)}


def test_evaluate_is_consistent_and_json_ready(split, fitted, tmp_path):
    _, _, X_test, y_test = split
    m = evaluate(fitted["hog"], X_test, y_test)
    counts = np.array(m["confusion_matrix"])
    assert counts.sum() == m["n_samples"] == len(y_test)
    assert m["accuracy"] == pytest.approx(np.trace(counts) / counts.sum(), abs=1e-4)
    np.testing.assert_allclose(np.array(m["confusion_matrix_normalized"]).sum(axis=1), 1.0, atol=1e-3)
    assert [m["per_class"][c]["support"] for c in m["classes"]] == counts.sum(axis=1).tolist()
    per_class = m["per_class"].values()
    assert m["macro_f1"] == pytest.approx(np.mean([c["f1"] for c in per_class]), abs=1e-3)
    assert m["balanced_accuracy"] == pytest.approx(np.mean([c["recall"] for c in per_class]), abs=1e-3)
    path = write_json(m, tmp_path / "deep" / "metrics.json")
    assert json.loads(path.read_text()) == m


def test_metrics_from_predictions():
    m = classification_metrics(["a", "a", "b", "c"], ["a", "b", "b", "b"], labels=["a", "b", "c"])
    assert m["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    with pytest.raises(ValueError, match="0 samples"):
        classification_metrics([], [])


def test_every_plot_draws_and_saves(split, fitted, tmp_path):
    _, _, X_test, y_test = split
    results = {name: {**evaluate(m, X_test, y_test), "fit_seconds": 1.0} for name, m in fitted.items()}
    proba = fitted["hog"].predict_proba(X_test)
    figures = {
        "confusion": plot_confusion_matrix(results["hog"]),
        "counts": plot_confusion_matrix(results["hog"], normalize=False),
        "classes": plot_class_metrics(results["hog"]),
        "curves": plot_training_curves(fitted["transfer"]),
        "comparison": plot_model_comparison(results),
        "grid": plot_prediction_grid(
            X_test.reshape(-1, 24, 24), y_test, fitted["hog"].classes_[proba.argmax(1)], proba.max(1)
        ),
    }
    for name, fig in figures.items():
        assert all(ax.has_data() for ax in fig.axes if ax.get_label() != "<colorbar>"), name
        fig.savefig(tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_training_curves_mark_the_start_of_fine_tuning(fitted):
    fig = plot_training_curves(fitted["transfer"])
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert {"train_loss", "valid_loss", "fine-tuning starts"} <= set(labels)
    assert {"train_acc", "valid_acc"} <= {line.get_label() for line in fig.axes[1].get_lines()}
    with pytest.raises(ValueError, match="empty"):
        plot_training_curves(cnn())


def test_prediction_grid_frames_mistakes_in_red():
    images = np.zeros((3, 8, 8))
    fig = plot_prediction_grid(images, ["a", "b", "c"], ["a", "x", "c"])
    framed = [ax for ax in fig.axes if ax.axison]
    assert len(framed) == 1 and framed[0].get_title().startswith("true b")
    with pytest.raises(ValueError, match="no images"):
        plot_prediction_grid(np.zeros((0, 8, 8)), [], [])
