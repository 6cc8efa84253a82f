"""prior_shift: post-hoc logit adjustment of the neural estimators, fixed or chosen on the validation set."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from fersk import load, make_faces, save
from fersk.classifiers._neural import PRIOR_SHIFTS

from .test_estimators import cnn, transfer


@pytest.fixture(scope="module")
def imbalanced():
    # 8:2:1, and a network trained one epoch: it leans towards the frequent class
    X, y = make_faces(220, image_size=24, weights=[8, 2, 1], emotions=["neutral", "happy", "fear"], random_state=0)
    return X, y


def test_a_shift_divides_the_probabilities_by_the_prior_to_its_power(imbalanced):
    X, y = imbalanced
    plain = cnn().fit(X, y)
    shifted = cnn(prior_shift=0.5).fit(X, y)  # the same seed trains the same network
    counts = np.array([np.sum(y == c) for c in plain.classes_])
    np.testing.assert_allclose(shifted.class_prior_, counts / len(y))
    assert plain.prior_shift_ == 0.0 and shifted.prior_shift_ == 0.5
    expected = plain.predict_proba(X) / np.sqrt(counts / len(y))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(shifted.predict_proba(X), expected, rtol=1e-5)
    np.testing.assert_array_equal(shifted.predict(X), shifted.classes_[expected.argmax(axis=1)])
    # the rarest class gains predictions, the most frequent loses them
    rare, frequent = np.argmin(counts), np.argmax(counts)
    assert np.sum(shifted.predict(X) == shifted.classes_[rare]) >= np.sum(plain.predict(X) == plain.classes_[rare])
    assert np.sum(shifted.predict(X) == shifted.classes_[frequent]) <= np.sum(
        plain.predict(X) == plain.classes_[frequent]
    )


@pytest.mark.parametrize("make", [cnn, transfer], ids=["cnn", "transfer"])
def test_auto_chooses_the_shift_with_the_best_macro_f1_on_the_validation_set(imbalanced, make):
    X, y = imbalanced
    X_val, y_val = X[160:], y[160:]
    model = make(prior_shift="auto", validation_fraction=0).fit(X[:160], y[:160], X_val=X_val, y_val=y_val)
    unshifted = np.log(make(validation_fraction=0).fit(X[:160], y[:160], X_val=X_val, y_val=y_val).predict_proba(X_val))
    scores = [
        f1_score(y_val, model.classes_[(unshifted - s * np.log(model.class_prior_)).argmax(1)], average="macro")
        for s in PRIOR_SHIFTS
    ]
    assert model.prior_shift_ == PRIOR_SHIFTS[int(np.argmax(scores))]
    assert f1_score(y_val, model.predict(X_val), average="macro") == pytest.approx(max(scores))
    assert model.tuning_set_ is None  # the validation images are not kept after fit


def test_auto_uses_the_split_drawn_by_validation_fraction(imbalanced, capsys):
    X, y = imbalanced
    model = cnn(prior_shift="auto", validation_fraction=0.25, verbose=1).fit(X, y)
    assert model.prior_shift_ in PRIOR_SHIFTS
    assert f"prior_shift='auto': {model.prior_shift_}" in capsys.readouterr().out
    model.partial_fit(X, y)  # chooses again, on partial_fit's own split, and keeps nothing
    assert model.prior_shift_ in PRIOR_SHIFTS and model.tuning_set_ is None


def test_a_restored_finished_checkpoint_chooses_the_same_shift(imbalanced, tmp_path):
    X, y = imbalanced
    path = tmp_path / "run.ckpt"
    first = cnn(prior_shift="auto", max_epochs=2, checkpoint=path).fit(X, y)
    restored = cnn(prior_shift="auto", max_epochs=2, checkpoint=path).fit(X, y)
    assert restored.prior_shift_ == first.prior_shift_
    np.testing.assert_allclose(restored.predict_proba(X), first.predict_proba(X), rtol=1e-6)


def test_the_shift_survives_save_and_load(imbalanced, tmp_path):
    X, y = imbalanced
    model = cnn(prior_shift=0.7).fit(X, y)
    loaded = load(save(model, tmp_path / "shifted.fersk"))
    assert loaded.prior_shift_ == 0.7
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-6)


@pytest.mark.parametrize("bad", [-0.5, "yes", float("nan"), [0.5]])
def test_a_bad_shift_is_a_clear_error(imbalanced, bad):
    message = r"The 'prior_shift' parameter of CNNClassifier must be a float in the range \[0.0, inf\) or a str among"
    with pytest.raises(ValueError, match=message):
        cnn(prior_shift=bad).fit(*imbalanced)


def test_auto_without_a_validation_set_says_what_to_do(imbalanced):
    with pytest.raises(ValueError, match="pass X_val and y_val to fit, set validation_fraction > 0"):
        cnn(prior_shift="auto", validation_fraction=0).fit(*imbalanced)
