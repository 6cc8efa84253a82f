"""fersk's estimators driven by scikit-learn and imbalanced-learn client code, as a researcher's scripts drive them.

Each test here failed before fersk fixed what it names: a class with one image, labels
unseen at fit, probabilities that did not sum to one, no feature names, no sample
weights or metadata routing, and SMOTE wrapping uint8 pixels around.
"""

import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from imblearn.over_sampling import SMOTE
from sklearn.ensemble import AdaBoostClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    StratifiedKFold,
    cross_validate,
    learning_curve,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fersk import HOGTransformer, make_faces
from fersk.training import FocalLoss

from .classifiers.test_estimators import cnn, hog
from .classifiers.test_estimators import transfer as two_phase_transfer


def transfer(**kw):
    return two_phase_transfer(**{"max_epochs": 1, "head_epochs": 0, **kw})


FAMILIES = {"hog": hog, "cnn": cnn, "transfer": transfer}


@pytest.fixture(scope="module")
def faces():
    return make_faces(84, image_size=24, difficulty=0.0, random_state=0)


# -- A. a class with a single image -----------------------------------------------------


def test_hog_svm_fits_when_a_class_has_one_image(faces):
    X, y = faces
    keep = np.flatnonzero(y != "fear").tolist() + [np.flatnonzero(y == "fear")[0]]
    with pytest.warns(UserWarning, match=r"class\(es\) \['fear'\] have a single image"):
        model = hog().fit(X[keep], y[keep])
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 7)
    assert model.predict(X[keep][-1:])[0] == "fear"  # the lone image is learned, as SVC learns it


# -- B. C. and the "done" of the issue: learning_curve, successive halving, cross_validate --


@pytest.mark.parametrize("family", FAMILIES)
def test_probabilities_sum_to_one_in_float64(faces, family):
    X, y = faces
    proba = FAMILIES[family]().fit(X, y).predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_learning_curve_from_a_tenth_of_the_data(faces, family):
    # the smallest step trains on a handful of images: classes go missing or have one image
    X, y = faces
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # single-image classes and unseen labels are warned about
        sizes, train, test = learning_curve(
            FAMILIES[family](),
            X,
            y,
            train_sizes=np.linspace(0.1, 1, 4),
            cv=StratifiedKFold(3, shuffle=True, random_state=0),
            error_score="raise",
        )
    assert sizes.tolist() == [5, 22, 39, 56]
    assert np.isfinite(train).all() and np.isfinite(test).all()
    if family == "hog":  # the tiny networks learn little in one epoch; HOG+SVM learns from more data
        assert test[-1].mean() > test[0].mean()


@pytest.mark.parametrize("family", FAMILIES)
def test_successive_halving_runs_to_the_end(faces, family):
    X, y = faces
    grid = {"C": [1.0, 10.0]} if family == "hog" else {"lr": [1e-3, 3e-3]}
    search = HalvingGridSearchCV(
        FAMILIES[family](), grid, cv=2, factor=2, min_resources=14, random_state=0, error_score="raise"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.n_resources_ == [14, 28]


@pytest.mark.parametrize("family", FAMILIES)
def test_cross_validate_with_probability_scorers_raises_no_warning(faces, family):
    X, y = faces
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = cross_validate(
            FAMILIES[family](),
            X,
            y,
            cv=StratifiedKFold(2, shuffle=True, random_state=0),
            scoring=["accuracy", "f1_macro", "neg_log_loss", "roc_auc_ovr"],
            error_score="raise",
        )
    assert np.isfinite(scores["test_neg_log_loss"]).all() and (scores["test_roc_auc_ovr"] > 0).all()


# -- D. feature names and set_output ----------------------------------------------------


def test_hog_features_are_named_and_come_out_as_pandas(faces):
    X, _ = faces
    features = HOGTransformer(pixels_per_cell=(6, 6)).set_output(transform="pandas").fit_transform(X)
    assert isinstance(features, pd.DataFrame)
    assert features.columns[:2].tolist() == ["hog0", "hog1"] and features.shape[1] == features.columns.size
    pipeline = make_pipeline(HOGTransformer(pixels_per_cell=(6, 6)), StandardScaler()).set_output(transform="pandas")
    assert pipeline.fit_transform(X).columns.tolist() == features.columns.tolist()
    with sklearn.config_context(transform_output="pandas"):
        assert isinstance(HOGTransformer(pixels_per_cell=(6, 6)).fit_transform(X), pd.DataFrame)


@pytest.mark.parametrize("family", ["cnn", "transfer"])
def test_network_features_are_named(faces, family):
    X, y = faces
    model = FAMILIES[family]().fit(X, y).set_output(transform="pandas")
    embedded = model.transform(X[:3])
    assert isinstance(embedded, pd.DataFrame)
    assert embedded.columns.tolist() == [f"embed{i}" for i in range(embedded.shape[1])]
    assert model.predict(X[:3]).shape == (3,)  # prediction is untouched by set_output


# -- E. sample weights and metadata routing ---------------------------------------------


def test_focal_loss_weighs_each_sample():
    logits, target = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])
    loss = FocalLoss(weight=torch.tensor([1.0, 3.0]), gamma=0.0)
    alone = loss(logits[:1], target[:1])
    torch.testing.assert_close(loss(logits, target, sample_weight=torch.tensor([1.0, 0.0])), alone)
    torch.testing.assert_close(loss(logits, target, sample_weight=torch.zeros(2)), torch.tensor(0.0))


@pytest.mark.parametrize("family", ["cnn", "transfer"])
@pytest.mark.slow
def test_networks_train_on_weighted_samples(faces, family):
    X, y = faces
    plain = FAMILIES[family](validation_fraction=0.2).fit(X, y)
    twice = FAMILIES[family](validation_fraction=0.2).fit(X, y, sample_weight=np.full(len(y), 2.0))
    # a batch's loss is the weighted mean: scaling every weight changes nothing
    np.testing.assert_allclose(twice.predict_proba(X), plain.predict_proba(X), rtol=1e-4, atol=1e-6)
    # weights reach the loss: trained on the happy faces alone, the network calls more faces happy
    longer = dict(validation_fraction=0.2, max_epochs=8, lr=1e-2, early_stopping=0)
    plain = FAMILIES[family](**longer).fit(X, y)
    happy = FAMILIES[family](**longer).fit(X, y, sample_weight=(y == "happy").astype(float))
    column = list(plain.classes_).index("happy")
    assert happy.predict_proba(X)[:, column].mean() > plain.predict_proba(X)[:, column].mean() + 0.05


def test_hog_svm_weights_reach_the_svm(faces):
    X, y = faces
    weights = np.where(y == "happy", 50.0, 1.0)
    plain, weighted = hog(C=0.01).fit(X, y), hog(C=0.01).fit(X, y, sample_weight=weights)
    happy = list(plain.classes_).index("happy")
    assert weighted.predict_proba(X)[:, happy].mean() > plain.predict_proba(X)[:, happy].mean()


@pytest.mark.parametrize("family", FAMILIES)
def test_metadata_routing_through_grid_search(faces, family):
    X, y = faces
    grid = {"C": [1.0]} if family == "hog" else {"lr": [1e-3]}
    with sklearn.config_context(enable_metadata_routing=True):
        model = FAMILIES[family]().set_fit_request(sample_weight=True).set_score_request(sample_weight=False)
        search = GridSearchCV(model, grid, cv=2, error_score="raise").fit(X, y, sample_weight=np.ones(len(y)))
        scores = cross_validate(model, X, y, cv=2, params={"sample_weight": np.ones(len(y))}, error_score="raise")
        happy = GridSearchCV(model, grid, cv=2).fit(X, y, sample_weight=np.where(y == "happy", 20.0, 1.0))
    # the routed weights reach the model
    assert not np.allclose(happy.predict_proba(X), search.predict_proba(X))
    assert np.isfinite(search.best_score_) and np.isfinite(scores["test_score"]).all()


def test_adaboost_boosts_hog_svm(faces):
    X, y = faces
    boosted = AdaBoostClassifier(hog(), n_estimators=2, random_state=0).fit(X, y)
    first, second = boosted.estimators_
    # the first member is the SVM fitted on AdaBoost's uniform weights (each 1/n, which scale C down as
    # scikit-learn's SVC scales it), its error the one AdaBoost weighed it by ...
    uniform = hog(random_state=first.random_state).fit(X, y, sample_weight=np.full(len(y), 1 / len(y)))
    np.testing.assert_array_equal(first.predict_proba(X), uniform.predict_proba(X))
    assert boosted.estimator_errors_[0] == pytest.approx(np.mean(first.predict(X) != y))
    # ... and the second learned from the weights that the first one's mistakes raised
    assert np.abs(second.predict_proba(X) - first.predict_proba(X)).max() > 1e-3
    assert boosted.score(X, y) > 0.5


# -- F. SMOTE on fersk's pixels -------------------------------------------------------


def test_smote_interpolates_pixels_without_wrapping_around():
    X, y = make_faces(70, image_size=16, weights=[4, 1, 1, 1, 1, 1, 1], random_state=0)
    assert X.dtype == np.float32
    resampled, labels = SMOTE(k_neighbors=3, random_state=0).fit_resample(X, y)
    synthetic, synthetic_labels = resampled[len(X) :], labels[len(X) :]
    np.testing.assert_array_equal(resampled[: len(X)], X)  # the originals first, then the images SMOTE made
    counts = Counter(y.tolist())
    assert Counter(labels.tolist()) == dict.fromkeys(counts, max(counts.values()))  # each class as large as the largest
    for label in np.unique(synthetic_labels):
        parents = X[y == label]
        made = synthetic[synthetic_labels == label]
        # an interpolation between two images of a class lies, pixel by pixel, within that class's range
        assert (made >= parents.min(axis=0)).all() and (made <= parents.max(axis=0)).all()
