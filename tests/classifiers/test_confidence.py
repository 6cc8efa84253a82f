"""fersk.calibrate: the temperature, split conformal prediction sets and abstention, and their model files."""

import copy
import json

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import log_loss

import fersk
from fersk.classifiers import calibrate
from fersk.classifiers._calibrate import (
    conformal_scores,
    conformal_threshold,
    fit_temperature,
    precision_threshold,
    temper,
)


@pytest.fixture(scope="module")
def faces():
    X, y = fersk.make_faces(900, image_size=24, emotions=["happy", "sad", "surprise"], random_state=0)
    return X[:300], y[:300], X[300:600], y[300:600], X[600:], y[600:]


# a network that learns something in seconds (about 40% right of three classes): sets of one class and of more
NET = dict(module__channels=(8, 16), max_epochs=3, lr=1e-2, batch_size=16, augment="none", random_state=0)


@pytest.fixture(scope="module")
def fitted(faces):
    X_train, y_train, *_ = faces
    return fersk.CNNClassifier(**NET, early_stopping=None, validation_fraction=0).fit(X_train, y_train)


def _copy(model):
    return copy.deepcopy(model)


def synthetic(n, n_classes, rng, sharpness=3.0):
    """Probabilities and labels drawn from them: calibrated, exchangeable, with a known answer."""
    logits = rng.normal(size=(n, n_classes)) * sharpness
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(n_classes, p=p) for p in proba])
    return proba, labels


def test_the_temperature_is_scikit_learns(fitted, faces):
    _, _, X_val, y_val, *_ = faces
    sklearn = CalibratedClassifierCV(FrozenEstimator(fitted), method="temperature").fit(X_val, y_val)
    (calibrator,) = sklearn.calibrated_classifiers_[0].calibrators
    model = calibrate(_copy(fitted), X_val, y_val)
    assert model.temperature_ == pytest.approx(1 / float(calibrator.beta_), rel=1e-4)


def test_the_temperature_keeps_every_label_and_lowers_the_validation_log_loss(fitted, faces):
    _, _, X_val, y_val, X_test, _ = faces
    before_val, before_test = fitted.predict_proba(X_val), fitted.predict_proba(X_test)
    model = calibrate(_copy(fitted), X_val, y_val)
    assert model.temperature_ != pytest.approx(1.0, abs=1e-3)  # three epochs: far from calibrated
    after_val, after_test = model.predict_proba(X_val), model.predict_proba(X_test)
    np.testing.assert_array_equal(before_test.argmax(axis=1), after_test.argmax(axis=1))
    np.testing.assert_array_equal(model.predict(X_test), fitted.predict(X_test))
    np.testing.assert_allclose(after_test.sum(axis=1), 1.0)
    assert log_loss(y_val, after_val, labels=model.classes_) < log_loss(y_val, before_val, labels=model.classes_)
    np.testing.assert_allclose(after_test, temper(before_test, model.temperature_), atol=1e-12)


def test_an_overconfident_model_is_cooled_and_an_underconfident_one_warmed():
    rng = np.random.default_rng(0)
    proba, y = synthetic(4000, 5, rng)
    assert fit_temperature(proba, y) == pytest.approx(1.0, abs=0.08)  # calibrated already
    assert fit_temperature(temper(proba, 0.5), y) == pytest.approx(2.0, rel=0.1)  # too sharp
    assert fit_temperature(temper(proba, 2.0), y) == pytest.approx(0.5, rel=0.1)  # too flat


@pytest.mark.parametrize("coverage", [0.8, 0.9, 0.95])
def test_split_conformal_sets_hold_the_true_class_as_often_as_asked(coverage):
    # the guarantee: over exchangeable calibration and test draws, P(y in set) >= coverage, and below
    # coverage + 1/(n+1) when scores do not tie; averaged over 300 draws of 200 calibration images
    rng = np.random.default_rng(1)
    n, covered = 200, []
    for _ in range(300):
        proba, y = synthetic(n + 100, 6, rng)
        threshold = conformal_threshold(conformal_scores(proba[:n], y[:n]), coverage)
        covered.append((proba[n:][np.arange(100), y[n:]] >= threshold - 1e-12).mean())
    mean = float(np.mean(covered))
    assert coverage - 0.005 <= mean <= coverage + 1 / (n + 1) + 0.005


def test_a_calibrated_networks_sets_cover_held_out_faces(fitted, faces):
    _, _, X_val, y_val, X_test, y_test = faces
    model = calibrate(_copy(fitted), X_val, y_val)
    truth = np.searchsorted(model.classes_, y_test)
    for coverage in (0.7, 0.9):
        sets = model.predict_sets(X_test, coverage=coverage)
        assert sets.shape == (len(X_test), len(model.classes_)) and sets.any(axis=1).all()
        assert sets[np.arange(len(truth)), truth].mean() == pytest.approx(coverage, abs=0.06)  # 300 faces: sd 2.6
    small, large = (model.predict_sets(X_test, coverage=c).sum(axis=1).mean() for c in (0.7, 0.9))
    assert small < large
    proba = model.predict_proba(X_test)
    np.testing.assert_array_equal(model.predict_sets(proba=proba, coverage=0.9), model.predict_sets(X_test))
    assert sets[np.arange(len(proba)), proba.argmax(axis=1)].all()  # the most probable is always in


def test_abstaining_keeps_the_precision_asked_on_held_out_draws():
    rng = np.random.default_rng(2)
    proba, y = synthetic(6000, 5, rng, sharpness=1.5)
    top, right = proba[:3000].max(axis=1), proba[:3000].argmax(axis=1) == y[:3000]
    threshold = precision_threshold(np.sort(top[right]), np.sort(top[~right]), 0.85)
    kept = proba[3000:].max(axis=1) >= threshold
    assert 0.1 < kept.mean() < 0.9  # it abstains on some, not all
    assert (proba[3000:].argmax(axis=1) == y[3000:])[kept].mean() == pytest.approx(0.85, abs=0.03)


def test_unsure_follows_the_threshold(fitted, faces):
    _, _, X_val, y_val, X_test, _ = faces
    model = calibrate(_copy(fitted), X_val, y_val)
    precision = 0.4
    proba = model.predict_proba(X_test)
    unsure = model.predict_unsure(proba=proba, precision=precision)
    np.testing.assert_array_equal(unsure, proba.max(axis=1) < model.unsure_threshold(precision))
    right = model.confidence_right_
    assert len(right) + len(model.confidence_wrong_) == len(y_val)


def test_fit_drops_the_calibration_and_clone_has_none(fitted, faces):
    X_train, y_train, X_val, y_val, *_ = faces
    model = calibrate(_copy(fitted), X_val, y_val)
    assert "temperature_" not in vars(clone(model))
    model.set_params(max_epochs=1).fit(X_train, y_train)
    assert not {"temperature_", "conformal_scores_", "confidence_right_", "confidence_wrong_"} & set(vars(model))
    with pytest.raises(ValueError, match=r"fersk\.calibrate\(model, X_val, y_val\)"):
        model.predict_sets(X_val)


def test_a_model_that_was_not_calibrated_says_how_to_calibrate_it(fitted, faces):
    X = faces[2][:3]
    for call in (lambda: fitted.predict_sets(X), lambda: fitted.predict_unsure(X), lambda: fitted.set_threshold()):
        with pytest.raises(ValueError, match=r"has none: fit them on validation images .*fersk\.calibrate"):
            call()


def test_wrong_requests_are_refused_with_what_to_do(fitted, faces):
    X_train, y_train, X_val, y_val, *_ = faces
    model = calibrate(_copy(fitted), X_val[:20], y_val[:20])
    with pytest.raises(ValueError, match=r"coverage=0.99 needs 99 or more calibration images .* calibrated on 20"):
        model.predict_sets(X_val, coverage=0.99)
    for bad in (1.5, 0, True, "0.9"):
        with pytest.raises(ValueError, match="coverage must be a number between 0 and 1"):
            model.set_threshold(bad)
    with pytest.raises(ValueError, match="not both"):
        model.predict_sets(X_val, proba=model.predict_proba(X_val))
    with pytest.raises(ValueError, match="one column per class"):
        model.predict_sets(proba=np.ones((2, 4)) / 4)
    with pytest.raises(ValueError, match="labels the model does not know: \\['smug'\\]"):
        calibrate(_copy(fitted), X_val[:3], ["smug", "happy", "sad"])
    with pytest.raises(ValueError, match="one label per image"):
        calibrate(_copy(fitted), X_val[:3], y_val[:2])
    hog = fersk.HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X_train, y_train)
    with pytest.raises(
        ValueError, match="CalibratedClassifierCV\\(FrozenEstimator\\(model\\), method='temperature'\\)"
    ):
        calibrate(hog, X_val, y_val)
    with pytest.raises(ValueError, match="not fitted yet"):
        calibrate(fersk.CNNClassifier(), X_val, y_val)


def test_a_pipeline_is_calibrated_on_its_last_step(faces):
    X_train, y_train, X_val, y_val, X_test, _ = faces
    net = fersk.CNNClassifier(**{**NET, "max_epochs": 1})
    pipeline = make_pipeline(RandomOverSampler(random_state=0), net).fit(X_train, y_train)
    before = pipeline.predict_proba(X_test)
    assert calibrate(pipeline, X_val, y_val) is pipeline
    assert "conformal_scores_" in vars(pipeline[-1])
    np.testing.assert_array_equal(pipeline.predict_proba(X_test).argmax(axis=1), before.argmax(axis=1))


def test_a_model_file_keeps_the_calibration(fitted, faces, tmp_path):
    _, _, X_val, y_val, X_test, _ = faces
    model = calibrate(_copy(fitted), X_val, y_val)
    loaded = fersk.load(fersk.save(model, tmp_path / "calibrated.fersk"))
    assert loaded.temperature_ == model.temperature_
    np.testing.assert_array_equal(loaded.conformal_scores_, model.conformal_scores_)
    np.testing.assert_allclose(loaded.predict_proba(X_test), model.predict_proba(X_test), atol=1e-6)
    for coverage in (0.5, 0.9):  # any coverage, asked after loading
        np.testing.assert_array_equal(
            loaded.predict_sets(X_test, coverage=coverage), model.predict_sets(X_test, coverage=coverage)
        )
    np.testing.assert_array_equal(
        loaded.predict_unsure(X_test, precision=0.5), model.predict_unsure(X_test, precision=0.5)
    )
    plain = fersk.load(fersk.save(fitted, tmp_path / "plain.fersk"))  # an uncalibrated model stays so
    assert "temperature_" not in vars(plain)
    np.testing.assert_allclose(plain.predict_proba(X_test), fitted.predict_proba(X_test), atol=1e-6)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature_", -1.0),
        ("temperature_", 0),
        ("temperature_", "hot"),
        ("temperature_", True),
        ("temperature_", [1.0]),
        ("conformal_scores_", [0.1, 1.5]),
        ("conformal_scores_", [0.1, "x"]),
        ("conformal_scores_", {"__class__": "numpy:load"}),
        ("confidence_wrong_", 0.5),
        ("expert_conformal_scores_", [0.1, 0.2]),
        ("expert_conformal_scores_", [[0.1], [2.0]]),
        ("expert_conformal_scores_", [[0.1], [0.2]]),  # scores per expert, and this network has no experts
        ("expert_conformal_scores_", {"__class__": "numpy:load"}),
    ],
)
def test_a_forged_calibration_value_is_refused(fitted, faces, tmp_path, name, value):
    from fersk._archive import read_archive, write_archive

    _, _, X_val, y_val, *_ = faces
    path = fersk.save(calibrate(_copy(fitted), X_val, y_val), tmp_path / "model.fersk")
    manifest, members = read_archive(path)
    manifest["fitted"][name] = value
    manifest = {k: v for k, v in manifest.items() if k not in ("format", "format_version", "files")}
    forged = write_archive(tmp_path / "forged.fersk", manifest, members)  # checksums recomputed, as a forger would
    with pytest.raises(ValueError, match=rf"forged.fersk (holds a value for {name}|names)"):
        fersk.load(forged)


def test_the_scores_are_stored_as_numbers_rounded_up(fitted, faces, tmp_path):
    from fersk._archive import read_archive

    _, _, X_val, y_val, *_ = faces
    model = calibrate(_copy(fitted), X_val, y_val)
    raw = (
        1
        - temper(fitted.predict_proba(X_val), model.temperature_)[
            np.arange(len(y_val)), np.searchsorted(model.classes_, y_val)
        ]
    )
    assert (model.conformal_scores_ >= np.sort(raw) - 1e-12).all()  # never below: coverage is kept
    assert (model.conformal_scores_ - np.sort(raw) <= 1e-5 + 1e-12).all()
    manifest, _ = read_archive(fersk.save(model, tmp_path / "m.fersk"))
    assert json.dumps(manifest["fitted"]["conformal_scores_"]).count(".") == len(y_val)


def test_a_file_written_before_class_prior_existed_saves_again_calibrated(fitted, faces, tmp_path):
    # the shipped fer2013 file predates class_prior_: loaded and calibrated, it must save again
    from fersk._archive import read_archive, write_archive

    _, _, X_val, y_val, X_test, _ = faces
    manifest, members = read_archive(fersk.save(fitted, tmp_path / "model.fersk"))
    del manifest["fitted"]["class_prior_"]
    manifest = {k: v for k, v in manifest.items() if k not in ("format", "format_version", "files")}
    old = fersk.load(write_archive(tmp_path / "old.fersk", manifest, members))
    assert "class_prior_" not in vars(old)
    again = fersk.load(fersk.save(calibrate(old, X_val, y_val), tmp_path / "again.fersk"))
    assert "class_prior_" not in vars(again) and again.temperature_ == old.temperature_
    np.testing.assert_array_equal(again.predict_sets(X_test), old.predict_sets(X_test))
