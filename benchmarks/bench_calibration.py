"""Calibrated confidence, prediction sets and abstention for the shipped models (``fersk.calibrate``).

Each shipped model is calibrated on its validation images only, the ones its card names:

- ``fer2013`` on FER2013 PublicTest (3,589 faces), where it chose its epochs and test-time views;
- ``fer2013-muxspace`` on FER2013 PublicTest and the muxspace val photos (1,368) together.

``fersk.calibrate`` fits a temperature (log-loss on those images, as scikit-learn's
``CalibratedClassifierCV(FrozenEstimator(model), method="temperature")`` fits it; for ``fer2013-muxspace``, two
experts mixed by a gate, one per expert, fitted together) and stores the split conformal scores and the
confidences of right and wrong answers. The figures, before and after, on images used for nothing else,
FER2013 PrivateTest (3,589) and the muxspace test photos (2,735), which
are not the ``fer2013`` model's kind of face:

- accuracy (a temperature keeps each image's most probable class, so it cannot change), the expected
  calibration error (``fersk.evaluation.expected_calibration_error``: top label, 15 equal-width bins) and
  the log-loss; target ECE <= 0.03 on both;
- prediction sets at 80%, 90% and 95% coverage: the share of test faces whose set holds the true class
  (target: within 1.5 points of the level at 90%) and the mean number of classes in a set;
- abstention at 80% and 90% precision: the threshold chosen on validation, and on test the precision
  of the answers kept and the share of faces answered.

The muxspace photos go through the detector and framing of ``fersk predict``, as the model card says
(``load_test_faces``, and for val the same ``crop_faces`` call: MTCNN, aligned, margin 0.1, 48x48 grey,
the whole photo where no face is found); the crops are cached in ``out/``. Each model predicts as it
ships (``fer2013``: ten "crops" views; ``fer2013-muxspace``: one); its uncalibrated probabilities are
computed once and cached in ``out/``, the calibrated ones are the temperature applied to them, checked
against the calibrated model's ``predict_proba`` on 100 faces of each test set.

``--ship`` writes the calibrated models into ``fersk/pretrained/`` and adds their calibration to the
cards, the explicit step that ships them (``--ship fer2013-muxspace``: that model only). ``--quick``: 300
faces of each set, to ``out/``.
"""

import argparse
import re
import time
import warnings

import numpy as np
from _common import HERE, SHARED_DATA, record
from sklearn.metrics import accuracy_score, log_loss

import fersk
from fersk.backbones import GatedExperts
from fersk.classifiers import calibrate
from fersk.classifiers._calibrate import fit_temperature, temper, uncalibrate
from fersk.datasets import load_dataset
from fersk.evaluation import expected_calibration_error, load_test_faces
from fersk.preprocessing import crop_faces

COVERAGES = (0.8, 0.9, 0.95)
PRECISIONS = (0.8, 0.9)
VALIDATION = {"fer2013": ("FER2013 PublicTest",), "fer2013-muxspace": ("FER2013 PublicTest", "muxspace val")}
# both models on both test sets; the photos are not the fer2013 model's kind of face (its card), which shows
# what a calibration on other faces promises there
TESTS = {name: ("FER2013 PrivateTest", "muxspace test") for name in VALIDATION}


def muxspace_faces():
    """The muxspace val and test photos, framed as ``fersk predict`` frames them, and their labels."""
    cache = HERE / "out" / "calibration-muxspace-faces.npz"
    if not cache.is_file():
        root = SHARED_DATA / "muxspace"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legend's mess, counted by the loader; photos without a face, kept
            test = load_test_faces(root, image_size=48, grayscale=True)
            data = load_dataset(root, image_size=48, grayscale=True)
            val = np.asarray(data.split) == "val"
            paths = [path for path, keep in zip(data.paths, val) if keep]
            X_val, kept = crop_faces(
                paths, on_missing="whole", output_size=48, detector="mtcnn", grayscale=True, n_jobs=-1
            )
        assert len(kept) == len(paths) == len(X_val)
        cache.parent.mkdir(exist_ok=True)
        np.savez_compressed(
            cache, val_X=X_val, val_y=np.asarray(data.target)[val], test_X=test.data, test_y=np.asarray(test.target)
        )
    stored = np.load(cache)
    return {
        "muxspace val": (stored["val_X"], stored["val_y"]),
        "muxspace test": (stored["test_X"], stored["test_y"]),
    }


def datasets(quick):
    fer = fersk.load_fer2013(SHARED_DATA / "fer2013", subset="test")
    usage = np.asarray(fer.usage)
    sets = {f"FER2013 {u}": (fer.data[usage == u], fer.target[usage == u]) for u in ("PublicTest", "PrivateTest")}
    sets.update(muxspace_faces())
    if quick:
        rng = np.random.default_rng(0)
        chosen = {k: rng.permutation(len(y))[:300] for k, (_, y) in sets.items()}
        sets = {k: (X[chosen[k]], y[chosen[k]]) for k, (X, y) in sets.items()}
    return sets


def scores(model, proba, y, experts=None, sets=True):
    """Accuracy, ECE and log-loss of probabilities; sets and abstention where the model is calibrated."""
    classes = model.classes_
    figures = {
        "accuracy %": round(100 * accuracy_score(y, classes[proba.argmax(axis=1)]), 2),
        "ECE": round(expected_calibration_error(y, proba, classes=classes), 4),
        "log-loss": round(log_loss(y, proba, labels=classes), 4),
    }
    if not sets or "conformal_scores_" not in vars(model):
        return figures
    truth = np.searchsorted(classes, y)
    for coverage in COVERAGES:
        sets = model.predict_sets(proba=proba, experts=experts, coverage=coverage)
        figures[f"{coverage:.0%} sets: coverage %"] = round(100 * sets[np.arange(len(y)), truth].mean(), 2)
        figures[f"{coverage:.0%} sets: mean size"] = round(float(sets.sum(axis=1).mean()), 3)
        figures[f"{coverage:.0%} sets: share of one class %"] = round(100 * float((sets.sum(axis=1) == 1).mean()), 2)
    right = proba.argmax(axis=1) == truth
    for precision in PRECISIONS:
        unsure = model.predict_unsure(proba=proba, precision=precision)
        kept = ~unsure
        figures[f"abstain for {precision:.0%}: precision of answers %"] = (
            round(100 * float(right[kept].mean()), 2) if kept.any() else None
        )
        figures[f"abstain for {precision:.0%}: faces answered %"] = round(100 * float(kept.mean()), 2)
    return figures


def probabilities(model, name, sets, quick):
    """The uncalibrated model's probabilities of every set, computed once (ten views: minutes) and cached in out/."""
    uncalibrate(model)  # a model shipped calibrated: its own probabilities first
    proba, computed = {}, []
    for key, (X, _) in sets.items():
        cache = HERE / "out" / f"calibration-proba--{name}--{key.replace(' ', '-')}-{len(X)}{'-quick' * quick}.npy"
        if not cache.is_file():
            np.save(cache, model.predict_proba(X))
            computed.append(key)
        proba[key] = np.load(cache)
    return proba, computed


def run(name, sets, figures, quick):
    model = fersk.load_pretrained(name)
    tests = {test: sets[test] for test in TESTS[name]}
    start = time.perf_counter()
    proba, computed = probabilities(model, name, {k: sets[k] for k in (*VALIDATION[name], *tests)}, quick)
    before = {test: proba[test] for test in tests}
    y_val = np.concatenate([sets[v][1] for v in VALIDATION[name]])
    gated = isinstance(model.module_, GatedExperts)
    experts = {test: None for test in tests}
    if gated:  # a temperature and scores per expert, from each face's gate: the calibrated model predicts again
        calibrate(model, np.concatenate([sets[v][0] for v in VALIDATION[name]]), y_val)
        after = {}
        for test, (X, _) in tests.items():
            after[test], experts[test] = model.predict_proba(X, return_experts=True)
    else:
        calibrate(model, None, y_val, proba=np.concatenate([proba[v] for v in VALIDATION[name]]))
        # what the calibrated model's predict_proba gives, checked on 100 faces of each test set
        after = {test: temper(before[test], model.temperature_) for test in tests}
        for test, (X, _) in tests.items():
            np.testing.assert_allclose(model.predict_proba(X[:100]), after[test][:100], atol=1e-5)
    seconds = time.perf_counter() - start
    row = {
        "tta": str(model.tta),
        "validation": f"{' + '.join(VALIDATION[name])} ({len(y_val)} faces)",
        "temperature": (
            [round(float(t), 4) for t in model.module_.temperatures] if gated else round(model.temperature_, 4)
        ),
        # what each validation set alone would want: where they differ, one temperature is a compromise
        "temperature of each validation set alone": {
            v: round(fit_temperature(proba[v], np.searchsorted(model.classes_, sets[v][1])), 4)
            for v in VALIDATION[name]
        },
        "90% set threshold": model.set_threshold(0.9),
        **(
            {"90% set threshold of each expert": [model.set_threshold(0.9, expert=k) for k in range(2)]}
            if gated
            else {}
        ),
        "90% precision threshold": model.unsure_threshold(0.9),
        "probabilities computed in this run (the others cached in out/ by an earlier run)": computed,
        "seconds (predictions and calibration)": round(seconds, 1),
    }
    for test, (_, y) in tests.items():
        plain = scores(model, before[test], y, sets=False)
        row[f"{test}: before"] = {k: plain[k] for k in ("accuracy %", "ECE", "log-loss")}
        row[f"{test}: after"] = scores(model, after[test], y, experts[test])
        same = float((before[test].argmax(axis=1) == after[test].argmax(axis=1)).mean())
        row[f"{test}: labels unchanged %"] = round(100 * same, 2)
    figures[name] = row
    print(name, row, flush=True)
    return model


def ship(name, model, row):
    """Write the calibrated model into fersk/pretrained/ and its calibration into the card."""
    folder = HERE.parent / "fersk" / "pretrained"
    path = fersk.save(model, folder / f"{name}.fersk")
    card = folder / f"{name}.md"
    text = card.read_text()
    text = re.sub(r"File size: \d+\.\d MB\.", f"File size: {path.stat().st_size / 1e6:.1f} MB.", text)
    before, found, after = text.partition("\n## Calibration\n")
    rest = after[after.find("\n## ") :] if found and "\n## " in after else ""  # the sections after it, kept
    text = before.rstrip("\n") + "\n\n" + calibration_section(name, row) + rest
    card.write_text(text)
    return path


def calibration_section(name, row):
    tests = TESTS[name]
    gated = isinstance(row["temperature"], list)
    lines = [
        "## Calibration",
        "",
        f"Calibrated with `fersk.calibrate` on {row['validation']}, validation images only:",
        (
            f"one temperature per expert, {row['temperature'][0]:.3f} (the FER2013 expert) and "
            f"{row['temperature'][1]:.3f} (the photos expert),"
            if isinstance(row["temperature"], list)
            else f"one temperature, {row['temperature']:.3f},"
        ),
        "which keeps every face's most probable class (accuracy unchanged). The file holds",
        "the split conformal scores of those faces"
        + (", and those of each expert's faces, from which a face's set is drawn," if gated else ",")
        + " so `model.predict_sets`, `fersk.analyze_faces(..., coverage=0.9)`",
        'and `fersk predict --coverage 0.9` give prediction sets, and `--abstain-precision` an honest "unsure".',
        "Measured by `python benchmarks/bench_calibration.py --ship` on images used for nothing else:",
        "",
        "| test set | ECE before | ECE after | log-loss before | log-loss after | 90% sets: coverage | mean set size |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for test in tests:
        b, a = row[f"{test}: before"], row[f"{test}: after"]
        lines.append(
            f"| {test} | {b['ECE']:.3f} | {a['ECE']:.3f} | {b['log-loss']:.3f} | {a['log-loss']:.3f} | "
            f"{a['90% sets: coverage %']:.2f}% | {a['90% sets: mean size']:.2f} |"
        )
    kept = "; ".join(
        f"{test} {row[f'{test}: after']['abstain for 90%: faces answered %']:.1f}% of faces, right "
        f"{row[f'{test}: after']['abstain for 90%: precision of answers %']:.1f}% of the time"
        for test in tests
    )
    lines += [
        "",
        f"Abstaining below a top probability of {row['90% precision threshold']:.3f} (90% precision on",
        f"validation) answers: {kept}.",
    ]
    missed = [
        f"ECE {row[f'{test}: after']['ECE']:.3f} on {test}" for test in tests if row[f"{test}: after"]["ECE"] > 0.03
    ] + [
        f"90% sets covering {row[f'{test}: after']['90% sets: coverage %']:.1f}% of {test}"
        for test in tests
        if abs(row[f"{test}: after"]["90% sets: coverage %"] - 90) > 1.5
    ]
    if missed:
        lines += [
            "",
            "Targets (ECE <= 0.03, 90% sets within 1.5 points of 90%) missed:",
            f"{'; '.join(missed)}.",
        ]
        if len(VALIDATION[name]) == 1:
            lines += [
                "The muxspace photos are not this model's kind of face, and its validation faces were all FER2013's:",
                "there its calibration promises nothing (conformal coverage holds for faces like the validation",
                "faces). The `fer2013-muxspace` model, calibrated on photos too, is the one for photos.",
            ]
        else:
            alone = ", ".join(f"{v} {t:.2f}" for v, t in row["temperature of each validation set alone"].items())
            lines += [
                f"Each validation set alone would want its own temperature ({alone}), which the experts'",
                "temperatures give, and each expert's faces are covered by their own scores; FER2013's",
                "PrivateTest faces are covered a little more often than asked by the scores of PublicTest's.",
            ]
    return "\n".join([*lines, ""])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(VALIDATION), choices=list(VALIDATION))
    parser.add_argument(
        "--ship",
        nargs="*",
        choices=list(VALIDATION),
        help="write the calibrated models (those named; none named: every model run) and cards into the package",
    )
    parser.add_argument("--quick", action="store_true", help="300 faces of each set; results to out/")
    args = parser.parse_args()
    shipped = (args.ship or args.models) if args.ship is not None else []
    if shipped and args.quick:
        parser.error("--ship ships models calibrated on every validation image: leave out --quick")
    start = time.perf_counter()
    sets = datasets(args.quick)
    figures = {"faces": {k: len(y) for k, (_, y) in sets.items()}}
    models = {name: run(name, sets, figures, args.quick) for name in args.models}
    name = "-".join(["calibration", *(args.models if len(args.models) == 1 else []), *(["quick"] * args.quick)])
    print(record(name, figures, time.perf_counter() - start))
    for model_name in shipped:
        print(f"shipped {ship(model_name, models[model_name], figures[model_name])}")


if __name__ == "__main__":
    main()
