import numpy as np
import pytest
from matplotlib.figure import Figure

from fersk.evaluation import expected_calibration_error, plot_reliability, reliability_bins


def _rows(confidence, top, n_classes=3):
    """Probability rows whose highest value is ``confidence`` on column ``top``, the rest shared."""
    proba = np.full((len(confidence), n_classes), 0.0)
    rest = (1 - np.asarray(confidence)) / (n_classes - 1)
    proba[:] = rest[:, None]
    proba[np.arange(len(proba)), top] = confidence
    return proba


def test_hand_computed_case():
    classes = np.array(["angry", "happy", "sad"])
    # bin (0.8, 0.8667]: 4 answers at 0.85, 3 right -> |0.75 - 0.85| = 0.10, weight 4/10
    # bin (0.4, 0.4667]: 5 answers at 0.45, 1 right -> |0.2 - 0.45| = 0.25, weight 5/10
    # bin (0.9333, 1]:  1 answer at 1.0, wrong        -> |0 - 1| = 1, weight 1/10
    confidence = np.array([0.85] * 4 + [0.45] * 5 + [1.0])
    top = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 2])
    y = np.array(["happy", "happy", "happy", "sad", "angry", "sad", "sad", "happy", "happy", "angry"])
    expected = 0.4 * 0.10 + 0.5 * 0.25 + 0.1 * 1.0
    ece = expected_calibration_error(y, _rows(confidence, top), classes=classes)
    assert isinstance(ece, float)
    assert ece == pytest.approx(expected, abs=1e-12)
    # classes default to the sorted labels of y_true, here all three
    assert expected_calibration_error(y, _rows(confidence, top)) == pytest.approx(expected, abs=1e-12)
    # one bin: |accuracy - mean confidence| overall = |0.4 - (3.4 + 2.25 + 1) / 10|
    assert expected_calibration_error(y, _rows(confidence, top), n_bins=1) == pytest.approx(abs(0.4 - 0.665))


def test_bins_are_right_closed():
    # 0.8 lies on the edge between bins 4 and 5 of 5: it belongs to (0.6, 0.8], with 0.7
    y, top = np.array(["a", "a"]), np.array([0, 1])
    proba = _rows(np.array([0.7, 0.8]), top, n_classes=2)
    bins = reliability_bins(y, proba, classes=["a", "b"], n_bins=5)["bins"]
    assert [(b["low"], b["high"], b["count"]) for b in bins] == [(0.6, 0.8, 2)]


def test_perfectly_calibrated_is_zero_and_overconfident_is_not():
    rng = np.random.default_rng(0)
    classes = np.arange(4)
    # exactly calibrated: in each group, the share right equals the confidence
    confidence, right = [], []
    for c, n in ((0.3, 10), (0.5, 20), (0.8, 10), (1.0, 5)):
        k = round(c * n)
        confidence += [c] * n
        right += [True] * k + [False] * (n - k)
    confidence, right = np.array(confidence), np.array(right)
    top = rng.integers(0, 4, len(right))
    y = np.where(right, top, (top + 1) % 4)
    proba = _rows(confidence, top, n_classes=4)
    assert expected_calibration_error(y, proba, classes=classes) == pytest.approx(0.0, abs=1e-12)
    # calibrated in expectation, 20,000 draws: only sampling noise is left
    confidence = rng.uniform(0.25, 1.0, 20_000)
    right = rng.random(20_000) < confidence
    top = rng.integers(0, 4, 20_000)
    y = np.where(right, top, (top + 1) % 4)
    assert expected_calibration_error(y, _rows(confidence, top, 4), classes=classes) < 0.015
    # the same answers claimed at 0.15 more confidence (capped at 1): the ECE sees most of it
    claimed = np.minimum(confidence + 0.15, 1.0)
    assert expected_calibration_error(y, _rows(claimed, top, 4), classes=classes) > 0.12


def test_agrees_with_a_loop_over_bins():
    rng = np.random.default_rng(3)
    proba = rng.dirichlet(np.ones(5) * 0.5, 500)
    y = rng.integers(0, 5, 500)
    conf, pred = proba.max(1), proba.argmax(1)
    edges = np.linspace(0, 1, 11)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (conf > low) & (conf <= high)
        if inside.any():
            total += inside.mean() * abs((pred[inside] == y[inside]).mean() - conf[inside].mean())
    assert expected_calibration_error(y, proba, classes=np.arange(5), n_bins=10) == pytest.approx(total)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"y_true": ["a", "b"], "proba": [[0.5, 0.5, 0.0]] * 2}, "3 columns but there are 2 classes"),
        ({"y_true": ["a", "z"], "proba": [[0.5, 0.5]] * 2, "classes": ["a", "b"]}, "not among the classes"),
        ({"y_true": ["a"], "proba": [[0.5, 0.5]] * 2}, "1 labels but proba has 2 rows"),
        ({"y_true": ["a", "b"], "proba": [0.5, 0.5]}, "must be 2-D"),
        ({"y_true": [], "proba": np.empty((0, 2))}, "0 samples"),
        ({"y_true": ["a", "b"], "proba": [[0.5, 0.5]] * 2, "n_bins": 0}, "n_bins must be a positive integer"),
    ],
)
def test_mistakes_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(**kwargs)


def test_reliability_diagram_uses_calibration_display():
    y = np.array(["a", "b", "b", "a"])
    proba = [[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.6, 0.4]]
    fig = plot_reliability(y, proba, n_bins=5, title="t")
    ax = fig.axes[0]
    assert ax.get_title() == "t"
    curve = [line for line in ax.lines if line.get_label() == "model"][0]
    np.testing.assert_allclose(curve.get_xdata(), [0.6, 0.9])  # mean confidence per bin
    np.testing.assert_allclose(curve.get_ydata(), [1.0, 0.5])  # accuracy per bin
    assert "Perfectly calibrated" in [line.get_label() for line in ax.lines]
    # drawn from stored bins alike, and onto a given axes
    target = Figure().add_subplot()
    assert plot_reliability(reliability_bins(y, proba, n_bins=5), ax=target) is target.figure
    with pytest.raises(ValueError, match="give proba"):
        plot_reliability(y)
    with pytest.raises(ValueError, match="no reliability bins"):
        plot_reliability({"accuracy": 0.5})


def test_cross_dataset_cells_carry_the_ece_of_the_shared_classes():
    from fersk import make_faces
    from fersk.evaluation import cross_dataset_evaluation, cross_dataset_table

    from ..classifiers.test_estimators import hog

    X, y = make_faces(180, image_size=24, difficulty=0.2, random_state=4)
    model = hog().fit(X[:120], y[:120])
    X_test, y_test = X[120:], y[120:]
    keep = y_test != "fear"  # a dataset without fear: the model's fear column is dropped and the rest sum to 1
    result = cross_dataset_evaluation({"m": model}, {"all": (X_test, y_test), "no fear": (X_test[keep], y_test[keep])})
    proba = model.predict_proba(X_test)
    assert result["scores"]["m"]["all"]["ece"] == pytest.approx(
        expected_calibration_error(y_test, proba, classes=model.classes_), abs=1e-4
    )
    shared = model.classes_ != "fear"
    restricted = proba[keep][:, shared] / proba[keep][:, shared].sum(axis=1, keepdims=True)
    expected = expected_calibration_error(y_test[keep], restricted, classes=model.classes_[shared])
    assert result["scores"]["m"]["no fear"]["ece"] == pytest.approx(expected, abs=1e-4)
    assert f" / {result['scores']['m']['all']['ece']:.3f} |" in cross_dataset_table(result, metrics=("accuracy", "ece"))
