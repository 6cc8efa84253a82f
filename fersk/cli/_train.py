"""``fersk compare``, ``fersk train`` and ``fersk evaluate``: models trained and scored on datasets."""

import time
from pathlib import Path

from sklearn.utils import Bunch

from .. import io
from .._atomic import save_figure
from ..classifiers import CNNClassifier, HOGSVMClassifier, TransferClassifier
from ..datasets import FORMATS, load_dataset, make_faces, train_test_parts
from ..evaluation import (
    DETECTORS,
    calibration_table,
    comparison_table,
    consistency_table,
    cross_dataset_evaluation,
    cross_dataset_table,
    evaluate,
    load_test_faces,
    per_class_table,
    plot_cross_dataset,
    write_evaluation,
    write_json,
    write_report,
)
from ._common import MODEL_HELP, load_model

FAMILIES = ("hog", "cnn", "transfer")


def add_data_options(parser, many=False):
    group = parser.add_argument_group("data (default: synthetic faces from fersk.make_faces)")
    group.add_argument(
        "--data",
        action="append" if many else "store",
        help="a dataset: FER2013 folder or CSV, class folders, an image folder with --labels, or a folder "
        "holding images/ and its label and split CSVs" + ("; repeat it to score several datasets" if many else ""),
    )
    group.add_argument("--format", choices=FORMATS, default="auto")
    group.add_argument("--labels", help="labels CSV, for --format labeled")
    group.add_argument("--split-csv", help="a split CSV (image,split) for --format labeled; else a 80/20 split")
    group.add_argument("--n-samples", type=int, default=2100, help="synthetic faces to draw (default: 2100)")
    group.add_argument("--image-size", type=int, default=48, help="side of synthetic faces (default: 48)")
    group.add_argument("--difficulty", type=float, default=0.3, help="synthetic difficulty, 0-1 (default: 0.3)")
    group.add_argument("--seed", type=int, default=0, help="random seed of data, split and models (default: 0)")


def load_data(args):
    """``(X_train, y_train, X_test, y_test, description)`` of ``args.data``, or of synthetic faces."""
    path = args.data
    if path is None:
        X, y = make_faces(
            args.n_samples, image_size=args.image_size, difficulty=args.difficulty, random_state=args.seed
        )
        data, source = Bunch(data=X, target=y), f"synthetic faces: make_faces({args.n_samples}, "
        source += f"difficulty={args.difficulty}, seed {args.seed})"
    else:
        data = load_dataset(path, args.format, labels=args.labels, split_csv=args.split_csv)
        source = f"{data.format} data at {path}"
    *parts, how = train_test_parts(data, random_state=args.seed)
    return (*parts, f"{source}, {how}")


def add_model_options(parser):
    group = parser.add_argument_group("models")
    group.add_argument("--epochs", type=int, default=15, help="maximum epochs of the neural models (default: 15)")
    group.add_argument("--backbone", default="resnet18", help="transfer-learning backbone (default: resnet18)")
    group.add_argument(
        "--weights",
        default="none",
        help="transfer starting weights: 'imagenet', 'fer2013' (the shipped model; with --backbone fernet), "
        "'none' or a file (state dict or .fersk model); default none",
    )
    group.add_argument("--progress", action="store_true", help="show a progress bar per epoch")
    parser.add_argument("--quiet", action="store_true", help="print only the results")


def make_model(family, args):
    """An unfitted estimator of the family, with the command's settings."""
    neural = dict(
        max_epochs=args.epochs,
        class_weight="balanced",
        random_state=args.seed,
        progress=args.progress,
        verbose=int(not args.quiet),
    )
    if family == "hog":
        return HOGSVMClassifier(n_jobs=-1, random_state=args.seed)
    if family == "cnn":
        return CNNClassifier(**neural)
    weights = None if args.weights == "none" else args.weights
    return TransferClassifier(args.backbone, weights=weights, **neural)


def family_name(family, args):
    return {"hog": "HOG+SVM", "cnn": "CNN (from scratch)", "transfer": f"Transfer ({args.backbone})"}[family]


def fit_timed(model, X, y):
    """``model`` fitted; returns its training time in seconds, unrounded (a fit can take under 0.05 s)."""
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def duration(seconds):
    """``seconds`` for people to read: two significant digits under 10 s, whole seconds above."""
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"


def say(args, message):
    if not getattr(args, "quiet", False):
        print(message, flush=True)


def compare(args):
    """Train and evaluate the families side by side; write report.md, metrics.json and PNGs."""
    X_train, y_train, X_test, y_test, description = load_data(args)
    families = [m.strip() for m in args.models.split(",") if m.strip()]
    if not families or set(families) - set(FAMILIES):
        raise ValueError(f"--models takes a comma-separated list of {', '.join(FAMILIES)}; got {args.models!r}")
    say(args, f"fersk compare: {description}; {len(y_train)} training and {len(y_test)} test images")
    results, fitted = {}, {}
    for i, family in enumerate(families, 1):
        name = family_name(family, args)
        say(args, f"[{i}/{len(families)}] training {name} ...")
        model = make_model(family, args)
        seconds = fit_timed(model, X_train, y_train)
        # stored as measured: rounded, a fit under 0.05 s (HOG+SVM on a fast machine) was stored as 0.0
        results[name], fitted[name] = {**evaluate(model, X_test, y_test), "fit_seconds": seconds}, model
        r = results[name]
        say(args, f"    accuracy {r['accuracy']:.2%}, macro-F1 {r['macro_f1']:.3f}, {duration(seconds)}")
    say(args, "writing plots and explanations ...")
    print(write_report(args.out, fitted, results, X_test, y_test, description=description, n_train=len(y_train)))
    print(f"\nReport written to {Path(args.out) / 'report.md'}, with metrics.json and the plots beside it")
    return 0


def train(args):
    """Train one model on the data's training part and save it as a fersk model file."""
    X_train, y_train, _, _, description = load_data(args)
    say(args, f"fersk train: {family_name(args.model, args)} on {description}; {len(y_train)} training images")
    model = make_model(args.model, args)
    seconds = fit_timed(model, X_train, y_train)
    say(args, f"trained in {duration(seconds)}; model written to {io.save(model, args.out)}")
    return 0


def evaluate_command(args):
    """Score models on the test part of datasets: one pair writes metrics.json and plots, more the cross table."""
    models = {str(spec): load_model(spec) for spec in args.model}
    datasets = {}
    for path in args.data or [None]:
        name, faces = _test_faces(args, path, next(iter(models.values())))
        datasets[name] = faces
        print(f"{name}: {len(faces.target)} test images, {faces.how}")
    if len(models) == len(datasets) == 1:
        (model_name, model), (data_name, faces) = *models.items(), *datasets.items()
        result = evaluate(model, faces.data, faces.target, consistency=args.consistency, random_state=args.seed)
        write_evaluation(args.out, model, result, model=model_name, data=f"{data_name}, {faces.how}")
        print(comparison_table({model_name: result}), end="\n\n")
        print(per_class_table({model_name: result}, metrics=("precision", "recall", "f1")), end="\n\n")
        if "reliability" in result:
            print("calibration (expected calibration error, 15 bins; 0 is calibrated):\n")
            print(calibration_table({model_name: result}), end="\n\n")
        if "consistency" in result:
            print("consistency (the share of faces that keep their label under each change):\n")
            print(consistency_table({model_name: result}), end="\n\n")
    else:
        result = cross_dataset_evaluation(models, datasets)
        write_json(result, Path(args.out) / "cross-dataset.json")
        for metric in ("accuracy", "macro_f1"):
            save_figure(
                plot_cross_dataset(result, metric=metric), Path(args.out) / f"cross-dataset-{metric}.png", dpi=110
            )
        print("accuracy / macro-F1 / ECE on each dataset's test part, on the classes model and dataset share:\n")
        print(cross_dataset_table(result, metrics=("accuracy", "macro_f1", "ece")))
    print(f"metrics and plots written to {args.out}")
    return 0


def _test_faces(args, path, model):
    """``(name, Bunch)``: a dataset's test faces as ``model`` takes them; synthetic faces without a path."""
    if path is None:
        *_, X_test, y_test, description = load_data(args)
        return "synthetic", Bunch(data=X_test, target=y_test, how=description)
    h, _, c = model.image_shape_
    options = dict(format=args.format, labels=args.labels, split_csv=args.split_csv, random_state=args.seed)
    faces = load_test_faces(path, image_size=h, grayscale=c == 1, detector=args.detector, **options)
    if faces.detector:
        faces.how += f"; faces found by {faces.detector} and framed as fersk predict frames them"
    return Path(path).name, faces


def add_parsers(commands):
    cmp = commands.add_parser(
        "compare",
        help="train and evaluate HOG+SVM, a CNN and transfer learning side by side; write a report",
        description="Train and evaluate HOG+SVM, a CNN from scratch and a transfer-learning backbone on one "
        "dataset (default: built-in synthetic faces), and write a report folder: report.md, metrics.json, PNGs.",
    )
    add_data_options(cmp)
    add_model_options(cmp)
    cmp.add_argument("--models", default=",".join(FAMILIES), help="which of hog,cnn,transfer (default: all)")
    cmp.add_argument("--out", default="fersk-report", help="report folder (default: fersk-report)")
    cmp.set_defaults(handler=compare)

    trn = commands.add_parser(
        "train",
        help="train one model and save it as a fersk model file",
        description="Train one model on the training part of the data and save it with fersk.save.",
    )
    trn.add_argument("--model", choices=FAMILIES, default="cnn", help="model family (default: cnn)")
    trn.add_argument("--out", default="model.fersk", help="model file to write (default: model.fersk)")
    add_data_options(trn)
    add_model_options(trn)
    trn.set_defaults(handler=train)

    evl = commands.add_parser(
        "evaluate",
        help="score models on the test part of one or more datasets",
        description="Score fersk models on the test part of datasets. One model on one dataset: the figures, "
        "metrics.json and plots. Several: a table of models by datasets (accuracy and macro-F1 on the classes each "
        "pair shares), cross-dataset.json and heatmaps. Photos go through the detector and framing of fersk predict.",
    )
    evl.add_argument("model", nargs="+", help=MODEL_HELP + "; several to compare them")
    evl.add_argument("--out", default="fersk-evaluation", help="folder for the figures' JSON and plots")
    evl.add_argument(
        "--detector",
        choices=DETECTORS,
        default="auto",
        help="how faces are found in photos (default: auto, MTCNN for image folders of photos larger than 64 px, "
        "none for face crops such as FER2013)",
    )
    evl.add_argument(
        "--no-consistency",
        dest="consistency",
        action="store_false",
        help="skip the consistency check (labels under a mirror, 0.7x brightness, JPEG at quality 30, a 10-degree "
        "rotation and Gaussian noise), which costs five more predictions of the test images; one model on one "
        "dataset only",
    )
    add_data_options(evl, many=True)
    evl.set_defaults(handler=evaluate_command)
