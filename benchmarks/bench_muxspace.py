"""muxspace, on the fixed split of ../shared/data/muxspace/data/split.csv: accuracy, macro-F1 and
per-class F1 on the 2,735 test images, with each model's training time, against the published
analysis (HOG+SVM 82.10% / macro-F1 0.39; CNN from scratch 51.88% / 0.13; ResNet18 ImageNet 88.05%).

Neural models fit on train with val as their validation set (early stopping, learning-rate
schedule); HOG+SVM and the nearest-neighbour diagnostic fit on train+val (on train alone with
``--vote val``, which weighs the models' votes by their macro-F1 on val). Nothing looks at test
before the figures. The transfer rows start fernet from fersk's pretrained FER2013 model and, for
comparison, from random weights.
"""

import argparse
import copy
import itertools
import time
from collections import Counter
from pathlib import Path

import numpy as np
from _common import MUXSPACE_NEURAL, load_muxspace, record, train_images
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import Normalizer, StandardScaler, normalize

import fersk
from fersk.evaluation import classification_metrics
from fersk.training import TTA_POLICIES, TimeBudget

PUBLISHED = {"HOG+SVM": (82.10, 0.39), "CNN from scratch": (51.88, 0.13), "ResNet18 ImageNet transfer": (88.05, None)}


def oversampled(build, at_least, seed):
    """``build`` behind a RandomOverSampler that repeats each class's images up to ``at_least``."""

    def strategy(y):
        return {label: max(count, at_least) for label, count in Counter(y).items()}

    return lambda: make_pipeline(RandomOverSampler(sampling_strategy=strategy, random_state=seed), build())


def headline(m):
    """Accuracy and macro-F1 of a :func:`classification_metrics` result."""
    return {"accuracy %": round(100 * m["accuracy"], 2), "macro-F1": m["macro_f1"]}


def per_class_f1(m):
    return {c: v["f1"] for c, v in m["per_class"].items()}


def vote_weights(val_probas, y_val, classes, step=0.1):
    """The weights, on a grid of ``step`` over the simplex, whose average of ``val_probas`` has the
    best macro-F1 on val; ties go to the weights closest to equal."""
    n = len(val_probas)
    units = round(1 / step)
    grid = [w for w in itertools.product(range(units + 1), repeat=n) if sum(w) == units]

    def score(w):
        w = np.asarray(w) / units
        pred = classes[np.tensordot(w, val_probas, 1).argmax(axis=1)]
        return f1_score(y_val, pred, average="macro"), -np.abs(w - 1 / n).sum()

    return np.asarray(max(grid, key=score)) / units


def refit_on_train_and_val(classifier, name, data, X_train, y_train, val, test):
    """``classifier`` trained again on train+val for the epochs val chose, without a validation set.

    The epochs are those of the weights early stopping (or the time budget) kept; the prior
    shift is the one val chose. Returns the row's name and figures; nothing here sees test
    before the figures.
    """
    epochs = max(i for i, row in enumerate(classifier.history, 1) if row.get("valid_loss_best"))
    refit = clone(classifier).set_params(
        max_epochs=epochs, validation_fraction=0.0, early_stopping=0, callbacks=[], prior_shift=classifier.prior_shift_
    )
    start = time.perf_counter()
    refit.fit(*train_and_val(data, X_train, y_train, val))
    seconds = time.perf_counter() - start
    m = classification_metrics(data.target[test], refit.predict(data.data[test]), labels=refit.classes_)
    figures = {**headline(m), "fit s": round(seconds), "epochs": epochs, "per-class F1": per_class_f1(m)}
    return f"{name}, refit on train+val for {epochs} epochs", figures, refit


def train_and_val(data, X_train, y_train, val):
    """The training images and labels with val's after them."""
    return np.concatenate([X_train, data.data[val]]), np.concatenate([y_train, data.target[val]])


def network_features(classifier, X, X_test, policies=TTA_POLICIES):
    """A fitted network's L2-normalised features (its ``transform``) of ``X`` and ``X_test``, for
    each test-time view policy: ``{tta: (of X, of X_test)}``, computed once per network and run.
    """
    views = {}
    for tta in policies:
        shallow = copy.copy(classifier)  # the same network, with other test-time views
        shallow.tta = tta
        views[tta] = normalize(shallow.transform(X)), normalize(shallow.transform(X_test))
    return views


def feature_heads(y_train):
    """The classifiers fit on a network's features, each with the grid searched on val and a
    function that names the chosen settings.

    ``"knn"`` is a k-nearest-neighbour classifier (cosine distance). ``"linear"`` retrains the
    classifier alone on the network's fixed (standardised) features with class-balanced weights
    (fully or by the square root), the "decoupled" classifier retraining of Kang et al. (ICLR 2020): the
    network keeps the features it learnt with its milder weighting, and only the decision
    boundaries see the rare classes at full weight.
    """
    labels, counts = np.unique(y_train, return_counts=True)
    sqrt_balanced = dict(zip(labels, np.sqrt(len(y_train) / (len(labels) * counts)).tolist()))
    return {
        "knn": (
            make_pipeline(Normalizer(), KNeighborsClassifier()),
            {
                "kneighborsclassifier__n_neighbors": [3, 5, 7, 10, 15],
                "kneighborsclassifier__weights": ["uniform", "distance"],
            },
            lambda p: (
                f"{p['kneighborsclassifier__n_neighbors']}-NN ({p['kneighborsclassifier__weights']}, tta={p['tta']})"
            ),
        ),
        "linear": (
            make_pipeline(Normalizer(), StandardScaler(), LogisticRegression(max_iter=2000)),
            {
                "logisticregression__C": [0.01, 0.1, 1.0],
                "logisticregression__class_weight": ["balanced", sqrt_balanced],
            },
            lambda p: "balanced linear head (C={:g}, {}, tta={})".format(
                p["logisticregression__C"],
                "balanced" if p["logisticregression__class_weight"] == "balanced" else "sqrt-balanced",
                p["tta"],
            ),
        ),
    }


def head_on_features(networks, head, name, y, n_train, y_test, labels, seconds):
    """A classifier fit on the features of one or more networks.

    ``head`` is one of :func:`feature_heads`. ``networks`` holds each network's
    ``network_features`` of train+val (train first, ``n_train`` of them) and of test; several
    networks' features are put side by side (each L2-normalised, then the whole). The test-time
    views (none, flip or crops) and the head's settings are chosen by macro-F1 on val, with train
    to fit on (a GridSearchCV with that one split per view policy); the chosen model is then fit
    on train+val. Returns the row's name and figures, and the chosen search with its ``tta``
    added to ``best_params_``.
    """
    start = time.perf_counter()
    estimator, grid, describe = head
    split = PredefinedSplit(np.r_[np.full(n_train, -1), np.zeros(len(y) - n_train)])
    searches = {}
    for tta in TTA_POLICIES:
        searches[tta] = GridSearchCV(estimator, grid, scoring="f1_macro", cv=split).fit(
            np.hstack([views[tta][0] for views in networks]), y
        )
    tta, search = max(searches.items(), key=lambda item: item[1].best_score_)
    search.best_params_["tta"] = tta
    m = classification_metrics(y_test, search.predict(np.hstack([views[tta][1] for views in networks])), labels=labels)
    return (*head_row(name, describe, m, search, seconds + time.perf_counter() - start), search)


def head_row(name, describe, m, search, seconds):
    """A head's row name and figures: test figures of ``m``, and the val macro-F1 ``search`` chose by."""
    return f"{name}, {describe(search.best_params_)} on the features", {
        **headline(m),
        "val macro-F1": round(float(search.best_score_), 4),
        "fit s": round(seconds),
        "per-class F1": per_class_f1(m),
    }


def head_on_refit_features(search, describe, refit, name, X, y, X_test, y_test, fit_seconds):
    """The head and views ``search`` chose, on the features of the network refit on train+val."""
    start = time.perf_counter()
    tta = search.best_params_["tta"]
    features, test_features = network_features(refit, X, X_test, policies=[tta])[tta]
    head = clone(search.best_estimator_).fit(features, y)
    m = classification_metrics(y_test, head.predict(test_features), labels=refit.classes_)
    return head_row(name, describe, m, search, fit_seconds + time.perf_counter() - start)


def head_probabilities(search, views, n_train, y, classes):
    """The probabilities of the head ``search`` chose: on val from the head fit on train, and on
    test from the head fit on train+val."""
    features, test_features = views[search.best_params_["tta"]]
    on_train = clone(search.best_estimator_).fit(features[:n_train], y[:n_train])
    assert list(on_train.classes_) == list(classes), "the heads and the network order classes alike"
    return on_train.predict_proba(features[n_train:]), search.predict_proba(test_features)


def blended(probas, y_val, y_test, classes):
    """Several models' probabilities averaged, weighted (steps of 0.1) by macro-F1 on val.

    ``probas`` holds (val, test) probabilities per model. Returns the weights and the figures on test."""
    val, test = zip(*probas)
    weights = vote_weights(list(val), y_val, classes)
    return weights, classification_metrics(
        y_test, classes[np.tensordot(weights, test, 1).argmax(axis=1)], labels=classes
    )


def models(epochs, budget_seconds, seed, class_weight, oversample, ema, prior_shift, tta, image_shape, lr_schedule):
    """The models compared; each a function so that only the chosen ones are built."""
    neural = dict(
        MUXSPACE_NEURAL,
        class_weight=class_weight,
        image_shape=image_shape,
        max_epochs=epochs,
        ema=ema,
        prior_shift=prior_shift,
        tta=tta,
        # the cosine schedule ends at its last epoch: stopping early would cut its low learning rates
        early_stopping=None if lr_schedule == "cosine" else 5,
        lr_schedule=lr_schedule,
        lr_patience=2,
        random_state=seed,
        verbose=1,
        callbacks=[("time_budget", TimeBudget(budget_seconds))],
    )
    transfer = dict(head="mlp", fine_tune_layers="all", backbone_lr_scale=0.3, **neural)
    chosen = {
        "cnn": (
            f"CNN from scratch, class_weight={class_weight}, ema={ema}, prior_shift={prior_shift}, tta={tta}"
            + (f", lr_schedule={lr_schedule}" if lr_schedule != "plateau" else ""),
            lambda: fersk.CNNClassifier(**neural),
        ),
        "fer2013": (
            "fernet from fersk's FER2013 model",
            lambda: fersk.TransferClassifier("fernet", weights="fer2013", head_epochs=2, **transfer),
        ),
        "random": (
            "fernet from random weights",
            lambda: fersk.TransferClassifier("fernet", weights=None, head_epochs=0, **transfer),
        ),
    }
    if oversample:
        chosen = {
            key: (f"{name}, oversampled to {oversample}+ per class", oversampled(build, oversample, seed))
            for key, (name, build) in chosen.items()
        }
    classic = {
        "hog": ("HOG+SVM", lambda: fersk.HOGSVMClassifier(n_jobs=-1, random_state=seed)),
        # a diagnostic, not a contender: it finds the training image nearest to each face, so it
        # shows how much of a class is near-duplicates of training images
        "nn": ("1-nearest neighbour on raw pixels", lambda: KNeighborsClassifier(n_neighbors=1)),
    }
    return {**classic, **chosen}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="hog,cnn,fer2013,random", help="comma-separated: hog,cnn,fer2013,random,nn")
    parser.add_argument("--quick", action="store_true", help="up to 250 training images per class, 1 epoch")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--budget-minutes", type=float, default=10, help="per neural model (default: 10)")
    parser.add_argument(
        "--seeds",
        default="0",
        help="comma-separated: each model is trained once per seed, and with --vote the seeds' models "
        "vote together (default: 0)",
    )
    parser.add_argument(
        "--hog-image-size",
        type=int,
        default=64,
        help="HOG+SVM input size (default 64: 82.60%% on val against 81.94%% at 48, both C=10, fit on train)",
    )
    parser.add_argument(
        "--image-size", type=int, default=48, help="input size of the neural models (default: 48, FER2013's)"
    )
    parser.add_argument(
        "--color",
        action="store_true",
        help="give the neural models the images in colour (923 of the split's 13,672 are colour crops); "
        "HOG+SVM stays grayscale",
    )
    parser.add_argument(
        "--class-weight",
        default="balanced_sqrt",
        choices=["balanced_sqrt", "balanced"],
        help="of the neural models (default: balanced_sqrt; balanced weighs fear, 15 training images, 90x)",
    )
    parser.add_argument(
        "--oversample",
        type=int,
        default=0,
        metavar="N",
        help="put the neural models behind a RandomOverSampler that brings every class to N images (default: off)",
    )
    parser.add_argument(
        "--ema", type=float, default=None, metavar="DECAY", help="weight averaging of the neural models (default: off)"
    )
    parser.add_argument(
        "--prior-shift",
        default="0",
        help="of the neural models: a number, or 'auto' to choose it by macro-F1 on val (default: 0)",
    )
    parser.add_argument("--tta", choices=["none", "flip", "crops"], default="none", help="of the neural models")
    parser.add_argument(
        "--lr-schedule",
        choices=["plateau", "cosine"],
        default="plateau",
        help="of the neural models: halve the learning rate when val loss stalls, or anneal it to 0 over "
        "--epochs and keep the last epoch's weights, without early stopping (choose --epochs to fit the "
        "budget) (default: plateau)",
    )
    parser.add_argument(
        "--refit",
        action="store_true",
        help="add a row for each neural model trained again on train+val, without a validation set, for "
        "the epochs val chose (the epoch of the weights it kept); votes use the models fit on train",
    )
    parser.add_argument(
        "--knn",
        action="store_true",
        help="add a row for each neural model's features (its transform) fed to a k-nearest-neighbour "
        "classifier: k and weighting chosen by macro-F1 on val, then train+val as the neighbours; with "
        "--refit, also on the refit network's features; with several neural models (or seeds), one more "
        "row for the neighbours on all their features side by side",
    )
    parser.add_argument(
        "--linear",
        action="store_true",
        help="like --knn, with a class-balanced logistic regression on the features in place of the "
        "neighbours (the classifier retrained alone, as in decoupled long-tail training): C and the "
        "class weighting (balanced or its square root) chosen by macro-F1 on val",
    )
    parser.add_argument(
        "--blend",
        action="store_true",
        help="with --knn or --linear: one more row for each of their rows on a single network, with the "
        "network's probabilities averaged with the head's, weighted (steps of 0.1) by macro-F1 on val; with "
        "both, one more row for the network and both heads averaged, weighted alike",
    )
    parser.add_argument(
        "--save",
        metavar="DIR",
        help="save each neural model fit on train with fersk.save, as DIR/<model>-seed<seed>.fersk",
    )
    parser.add_argument(
        "--load",
        metavar="DIR",
        help="take each neural model from DIR/<model>-seed<seed>.fersk, as --save wrote it, instead of "
        "training it (to study heads and blends without training again); its fit time is its history's",
    )
    parser.add_argument(
        "--vote",
        nargs="?",
        const="equal",
        choices=["none", "equal", "val"],
        default="none",
        help="add a row for a soft vote of the models: their probabilities averaged with equal weights "
        "(what a bare --vote gives), or with "
        "the weights (steps of 0.1) that give the best macro-F1 on val; with 'val', HOG+SVM fits on train only, "
        "so that its val probabilities are not of its own training images (default: none)",
    )
    args = parser.parse_args()
    if args.load and (args.refit or args.oversample):
        parser.error(
            "--load takes the networks as they were fit on train: it does not combine with --refit or --oversample"
        )
    if args.refit and args.oversample:
        parser.error("--refit refits the network alone; it does not combine with --oversample")
    heads = [kind for kind in ("knn", "linear") if getattr(args, kind)]
    if args.blend and not heads:
        parser.error("--blend averages the network with a head on its features: add --knn or --linear")
    begin = time.perf_counter()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    available = {
        seed: models(
            1 if args.quick else args.epochs,
            args.budget_minutes * 60,
            seed,
            args.class_weight,
            args.oversample,
            args.ema,
            args.prior_shift if args.prior_shift == "auto" else float(args.prior_shift),
            None if args.tta == "none" else args.tta,
            (args.image_size, args.image_size, 3 if args.color else 1),
            args.lr_schedule,
        )
        for seed in seeds
    }
    figures, val_proba, test_proba, test_files = {}, {}, {}, None
    networks, network_seconds = {}, {}  # with --knn: each network's features, and its fit and features' time
    for key, seed in itertools.product(args.models.split(","), seeds):
        name, build = available[seed][key]
        name += f", seed {seed}" if len(seeds) > 1 else ""
        print(f"== {name}", flush=True)
        size = args.hog_image_size if key == "hog" else args.image_size
        neural = key not in ("hog", "nn")
        data, train, val, test = load_muxspace(size, grayscale=not (neural and args.color))
        X_train, y_train = train_images(data, train, per_class=250 if args.quick else None)
        chosen_heads = {kind: head for kind, head in feature_heads(y_train).items() if kind in heads}
        model = fersk.load(Path(args.load) / f"{key}-seed{seed}.fersk") if args.load and neural else build()
        classifier = model.steps[-1][1] if hasattr(model, "steps") else model
        # val is what settings are chosen on; HOG+SVM usually fits on it, and then has no val figure
        fits_on_val = not neural and args.vote != "val"
        start = time.perf_counter()
        if fits_on_val:
            model.fit(*train_and_val(data, X_train, y_train, val))
        elif args.load and neural:
            start -= sum(classifier.history[:, "dur"])  # trained before: its fit time is its history's
        elif not neural:
            model.fit(X_train, y_train)
        else:
            # behind a resampler, the validation set is routed to the pipeline's classifier
            prefix = "" if classifier is model else f"{model.steps[-1][0]}__"
            model.fit(X_train, y_train, **{f"{prefix}X_val": data.data[val], f"{prefix}y_val": data.target[val]})
        seconds = time.perf_counter() - start
        test_proba[name] = model.predict_proba(data.data[test])
        y_test, y_val, classes = data.target[test], data.target[val], model.classes_
        files = np.asarray(data.filenames)[test].tolist()
        test_files = test_files or files
        assert files == test_files, "every model sees the same test images"
        m = classification_metrics(y_test, classes[test_proba[name].argmax(axis=1)], labels=classes)
        val_proba[name] = None if fits_on_val else model.predict_proba(data.data[val])
        on_val = (
            None
            if fits_on_val
            else classification_metrics(y_val, classes[val_proba[name].argmax(axis=1)], labels=classes)
        )
        figures[name] = {
            **headline(m),
            "val accuracy %": on_val and round(100 * on_val["accuracy"], 2),
            "val macro-F1": on_val and on_val["macro_f1"],
            "fit s": round(seconds),
            "image size": size,
            "colour": args.color and neural,
            "epochs": len(classifier.history) if hasattr(classifier, "history_") else None,
            "prior shift": getattr(classifier, "prior_shift_", None),
            "per-class F1": per_class_f1(m),
        }
        shift = getattr(classifier, "prior_shift_", 0.0)
        if shift:  # what the same network gives without its prior shift
            unshifted = test_proba[name] * classifier.class_prior_**shift
            u = classification_metrics(y_test, classes[unshifted.argmax(axis=1)], labels=classes)
            figures[name]["unshifted accuracy %"] = round(100 * u["accuracy"], 2)
            figures[name]["unshifted macro-F1"] = u["macro_f1"]
        print(figures[name], flush=True)
        if args.save and neural:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            fersk.save(classifier, Path(args.save) / f"{key}-seed{seed}.fersk")
        if heads and neural:
            X, y = train_and_val(data, X_train, y_train, val)
            start = time.perf_counter()
            networks[name] = network_features(classifier, X, data.data[test])
            # a head's training time: the network's fit, its features, the search
            network_seconds[name] = seconds + time.perf_counter() - start
            searches, head_names = {}, {}
            for kind, head in chosen_heads.items():
                head_names[kind], figures[head_names[kind]], searches[kind] = head_on_features(
                    [networks[name]], head, name, y, len(X_train), y_test, classes, network_seconds[name]
                )
                print(head_names[kind], figures[head_names[kind]], flush=True)
            if args.blend:
                probas = {"network": (val_proba[name], test_proba[name])}
                for kind, search in searches.items():
                    probas[kind] = head_probabilities(search, networks[name], len(X_train), y, classes)
                    weights, m = blended([probas["network"], probas[kind]], y_val, y_test, classes)
                    blend_name = (
                        f"{head_names[kind]}, averaged with the network (head weight {weights[1]:.1f}, chosen on val)"
                    )
                    figures[blend_name] = {**headline(m), "per-class F1": per_class_f1(m)}
                    print(blend_name, figures[blend_name], flush=True)
                if len(searches) > 1:
                    weights, m = blended(list(probas.values()), y_val, y_test, classes)
                    shown = ", ".join(f"{kind} {w:.1f}" for kind, w in zip(probas, weights))
                    blend_name = f"{name}: the network and its heads averaged (weights {shown}, chosen on val)"
                    figures[blend_name] = {**headline(m), "per-class F1": per_class_f1(m)}
                    print(blend_name, figures[blend_name], flush=True)
        if args.refit and neural:
            refit_name, figures[refit_name], refit = refit_on_train_and_val(
                classifier, name, data, X_train, y_train, val, test
            )
            print(refit_name, figures[refit_name], flush=True)
            for kind, (_, _, describe) in chosen_heads.items():
                head_name, figures[head_name] = head_on_refit_features(
                    searches[kind],
                    describe,
                    refit,
                    refit_name,
                    X,
                    y,
                    data.data[test],
                    y_test,
                    figures[refit_name]["fit s"],
                )
                print(head_name, figures[head_name], flush=True)
    for head in chosen_heads.values() if len(networks) > 1 else []:
        head_name, figures[head_name], _ = head_on_features(
            list(networks.values()),
            head,
            " + ".join(networks),
            y,
            len(X_train),
            y_test,
            classes,
            sum(network_seconds.values()),
        )
        print(head_name, figures[head_name], flush=True)
    if args.vote != "none":
        names = list(test_proba)
        weights = np.full(len(names), 1 / len(names))
        if args.vote == "val":  # chosen on val; test is only scored
            weights = vote_weights([val_proba[n] for n in names], y_val, classes)
        m = classification_metrics(y_test, classes[np.tensordot(weights, [test_proba[n] for n in names], 1).argmax(1)])
        vote = {
            **headline(m),
            "weights": dict(zip(names, weights.round(2).tolist())),
            "fit s": sum(f["fit s"] for f in figures.values()),
            "per-class F1": per_class_f1(m),
        }
        figures[f"soft vote ({args.vote} weights) of " + ", ".join(names)] = vote
        print(vote, flush=True)
    print(record("muxspace" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
