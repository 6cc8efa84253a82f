"""Shared by the muxspace benchmarks (``bench_muxspace_*.py``): the fixed split, the neural recipe,
the figures of a row, a network trained again on train+val, and heads and votes on a network.

Settings are chosen on val and test is only scored. A head is scikit-learn parts:
``make_pipeline(FrozenEstimator(network), Normalizer(), head)``, the head chosen by ``GridSearchCV``
with val as the ``PredefinedSplit``'s one held-out fold. A vote averages its members' probabilities
as a soft ``VotingClassifier`` of them would, from probabilities computed once per member (see
:func:`vote`). ``examples/plot_heads_and_votes.py`` shows both on synthetic faces.
"""

import argparse
import copy
import itertools
import time

import numpy as np
from _common import MUXSPACE_NEURAL, load_muxspace, train_images
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler, normalize
from sklearn.utils import Bunch

from fersk.evaluation import classification_metrics
from fersk.training import TTA_POLICIES, TimeBudget

QUICK = "up to 250 training images per class, 1 epoch; written to benchmarks/out/"


def neural_parser(description, budget_minutes, epochs, tta):
    """The flags of a script that trains a network on muxspace, with the given defaults."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tta", choices=["none", "flip", "crops"], default=tta, help=f"(default: {tta})")
    parser.add_argument("--budget-minutes", type=float, default=budget_minutes, help=f"(default: {budget_minutes})")
    parser.add_argument("--epochs", type=int, default=epochs, help=f"at most (default: {epochs})")
    parser.add_argument(
        "--refit",
        action="store_true",
        help="add rows for the network trained again on train+val for the epochs val chose, and its heads",
    )
    parser.add_argument("--quick", action="store_true", help=QUICK)
    return parser


def result_name(prefix, parser, args):
    """``prefix``, then each flag that differs from its default (``muxspace-cnn-seed-1``), then
    ``quick``: one results file per command."""
    changed = [
        key.replace("_", "-") + ("" if value is True else f"-{value}")
        for key, value in sorted(vars(args).items())
        if key != "quick" and value != parser.get_default(key)
    ]
    return "-".join([prefix, *changed, *(["quick"] if args.quick else [])])


def add(figures, row, values):
    """``figures[row] = values``, and print them."""
    figures[row] = values
    print(row, values, flush=True)


def muxspace(image_size, quick):
    """muxspace's fixed split at ``image_size`` px, grayscale: ``X_train``, ``y_train`` (with
    ``quick``, the first 250 images of each class), ``X_val``, ``y_val``, ``X_test``, ``y_test``."""
    data, train, val, test = load_muxspace(image_size)
    X_train, y_train = train_images(data, train, per_class=250 if quick else None)
    return Bunch(
        X_train=X_train,
        y_train=y_train,
        X_val=data.data[val],
        y_val=data.target[val],
        X_test=data.data[test],
        y_test=data.target[test],
    )


def train_and_val(mux):
    """The training images and labels with val's after them."""
    return np.concatenate([mux.X_train, mux.X_val]), np.concatenate([mux.y_train, mux.y_val])


def scores(y_true, y_pred, labels, more=()):
    """Accuracy (%) and macro-F1, then the figures in ``more``, then the per-class F1."""
    m = classification_metrics(y_true, y_pred, labels=labels)
    per_class = {c: v["f1"] for c, v in m["per_class"].items()}
    return {
        "accuracy %": round(100 * m["accuracy"], 2),
        "macro-F1": m["macro_f1"],
        **dict(more),
        "per-class F1": per_class,
    }


def neural_settings(args, ema):
    """The neural models' recipe on muxspace at 48 px: basic augmentation, sqrt-balanced class
    weights, label smoothing 0.1, early stopping with patience 5 and the learning-rate halved when
    val loss stalls for 2 epochs, within ``--budget-minutes`` and ``--epochs`` (1 with ``--quick``)."""
    return dict(
        MUXSPACE_NEURAL,
        image_shape=(48, 48, 1),
        max_epochs=1 if args.quick else args.epochs,
        ema=ema,
        tta=None if args.tta == "none" else args.tta,
        random_state=args.seed,
        verbose=1,
        callbacks=[("time_budget", TimeBudget(args.budget_minutes * 60))],
    )


def fit_network(network, mux):
    """Fit ``network`` on train with val as its validation set. Returns its row's figures and a
    vote member: the network and its probabilities on val and test."""
    start = time.perf_counter()
    network.fit(mux.X_train, mux.y_train, X_val=mux.X_val, y_val=mux.y_val)
    seconds = time.perf_counter() - start
    classes = network.classes_
    val_proba, test_proba = network.predict_proba(mux.X_val), network.predict_proba(mux.X_test)
    on_val = classification_metrics(mux.y_val, classes[val_proba.argmax(axis=1)], labels=classes)
    figures = scores(
        mux.y_test,
        classes[test_proba.argmax(axis=1)],
        classes,
        {
            "val accuracy %": round(100 * on_val["accuracy"], 2),
            "val macro-F1": on_val["macro_f1"],
            "fit s": round(seconds),
            "epochs": len(network.history),
        },
    )
    return figures, Bunch(model=network, val_proba=val_proba, test_proba=test_proba, seconds=seconds)


def refit_on_train_and_val(network, mux):
    """``network`` trained again on train+val, without a validation set, for the epochs of the
    weights early stopping (or the time budget) kept. Returns the epochs, the refit network and
    its row's figures."""
    epochs = max(i for i, row in enumerate(network.history, 1) if row.get("valid_loss_best"))
    refit = clone(network).set_params(
        max_epochs=epochs, validation_fraction=0.0, early_stopping=0, callbacks=[], prior_shift=network.prior_shift_
    )
    start = time.perf_counter()
    refit.fit(*train_and_val(mux))
    seconds = time.perf_counter() - start
    figures = scores(mux.y_test, refit.predict(mux.X_test), refit.classes_, {"fit s": round(seconds), "epochs": epochs})
    return epochs, refit, figures


def with_views(network, tta):
    """The same fitted network with other test-time views (a shallow copy)."""
    view = copy.copy(network)
    view.tta = tta
    return view


def head_grids(y_train):
    """The heads on a network's features, each with its grid and a function that names a choice.

    ``"knn"``: k nearest neighbours, cosine distance. ``"linear"``: a logistic regression on the
    standardised features with class-balanced weights (fully or by the square root), the
    "decoupled" classifier retraining of Kang et al. (ICLR 2020).
    """
    labels, counts = np.unique(y_train, return_counts=True)
    sqrt_balanced = dict(zip(labels, np.sqrt(len(y_train) / (len(labels) * counts)).tolist()))
    knn = "kneighborsclassifier__"
    linear = "logisticregression__"
    return {
        "knn": (
            make_pipeline(Normalizer(), KNeighborsClassifier()),
            {f"{knn}n_neighbors": [3, 5, 7, 10, 15], f"{knn}weights": ["uniform", "distance"]},
            lambda p: f"{p[f'{knn}n_neighbors']}-NN ({p[f'{knn}weights']}, tta={p['tta']})",
        ),
        "linear": (
            make_pipeline(Normalizer(), StandardScaler(), LogisticRegression(max_iter=2000)),
            {f"{linear}C": [0.01, 0.1, 1.0], f"{linear}class_weight": ["balanced", sqrt_balanced]},
            lambda p: "balanced linear head (C={:g}, {}, tta={})".format(
                p[f"{linear}C"],
                "balanced" if p[f"{linear}class_weight"] == "balanced" else "sqrt-balanced",
                p["tta"],
            ),
        ),
    }


def fit_heads(network, mux, kinds, seconds):
    """Heads (of :func:`head_grids`) on ``network``'s features, each chosen on val.

    Each head's settings and the network's test-time views (none, flip or crops) are chosen by
    macro-F1 on val, with train to fit on: a ``GridSearchCV`` over the features of train+val with a
    ``PredefinedSplit`` whose one held-out fold is val, per view policy (the features of each
    policy are computed once). The chosen head is then fit on train+val. Returns, per kind, a
    Bunch: ``model`` (an estimator of images: the frozen network's features, then the head),
    ``val_proba`` (of the head fit on train alone, for votes), ``test_proba``, ``search`` (with
    ``tta`` in its ``best_params_``), ``name`` and ``figures`` (on test); ``seconds`` is the
    network's fit.
    """
    start = time.perf_counter()
    X, y = train_and_val(mux)
    n_train = len(mux.y_train)
    features = {tta: normalize(with_views(network, tta).transform(X)) for tta in TTA_POLICIES}
    split = PredefinedSplit(np.r_[np.full(n_train, -1), np.zeros(len(y) - n_train)])
    heads = {}
    for kind, (estimator, grid, describe) in head_grids(mux.y_train).items():
        if kind not in kinds:
            continue
        searches = {
            tta: GridSearchCV(estimator, grid, scoring="f1_macro", cv=split).fit(features[tta], y)
            for tta in TTA_POLICIES
        }
        tta, search = max(searches.items(), key=lambda item: item[1].best_score_)
        search.best_params_["tta"] = tta
        model = make_pipeline(
            FrozenEstimator(with_views(network, tta)), Normalizer(), FrozenEstimator(search.best_estimator_)
        )
        on_train = clone(search.best_estimator_).fit(features[tta][:n_train], y[:n_train])
        assert list(on_train.classes_) == list(network.classes_), "the heads and the network order classes alike"
        test_proba = model.predict_proba(mux.X_test)
        heads[kind] = Bunch(
            model=model,
            val_proba=on_train.predict_proba(features[tta][n_train:]),
            test_proba=test_proba,
            search=search,
            name=describe(search.best_params_) + " on the features",
        )
        heads[kind].figures = scores(
            mux.y_test,
            network.classes_[test_proba.argmax(axis=1)],
            network.classes_,
            {
                "val macro-F1": round(float(search.best_score_), 4),
                "fit s": round(seconds + time.perf_counter() - start),
            },
        )
    return heads


def head_on_refit(head, refit, mux):
    """The head and views that ``head`` chose on the first network, fit on the features of the
    network refit on train+val, with train+val as its data. Returns its figures on test."""
    tta = head.search.best_params_["tta"]
    model = make_pipeline(FrozenEstimator(with_views(refit, tta)), Normalizer(), clone(head.search.best_estimator_))
    model.fit(*train_and_val(mux))
    return scores(mux.y_test, model.predict(mux.X_test), refit.classes_)


def vote_weights(val_probas, y_val, classes, step=0.1):
    """The weights, on a grid of ``step`` over the simplex, whose average of ``val_probas`` has the
    best macro-F1 on val; ties go to the weights closest to equal.

    The members' probabilities on val are computed once: a ``GridSearchCV`` over the
    ``VotingClassifier``'s ``weights`` would compute them again for each of the 66 candidates.
    """
    n = len(val_probas)
    units = round(1 / step)
    grid = [w for w in itertools.product(range(units + 1), repeat=n) if sum(w) == units]

    def score(w):
        w = np.asarray(w) / units
        pred = classes[np.tensordot(w, val_probas, 1).argmax(axis=1)]
        return f1_score(y_val, pred, average="macro"), -np.abs(w - 1 / n).sum()

    return np.asarray(max(grid, key=score)) / units


def vote(members, mux):
    """A soft vote of fitted models, its weights chosen on val (steps of 0.1).

    ``members`` maps names to Bunches with ``model``, ``val_proba`` (of the model fit on train)
    and ``test_proba`` (of the model fit on train+val, or of the network fit on train). The test
    figures are those of ``VotingClassifier([(name, FrozenEstimator(m.model)), ...],
    voting="soft", weights=weights)``, computed as it does (the weighted average of the members'
    probabilities) from the probabilities each member gave once: the vote itself would compute
    the network's ten ``"crops"`` views again for each vote. Returns the figures, with the weights.
    """
    classes = next(iter(members.values())).model.classes_
    weights = vote_weights([m.val_proba for m in members.values()], mux.y_val, classes)
    proba = np.average([m.test_proba for m in members.values()], axis=0, weights=weights)
    chosen = {"weights (chosen on val)": dict(zip(members, weights.tolist()))}
    return scores(mux.y_test, classes[proba.argmax(axis=1)], classes, chosen)
