"""The ``fersk`` command: compare, train, evaluate, predict, explain."""

import argparse
import csv
import os
import platform
import re
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from . import io
from ._pretrained import PRETRAINED, shipped_name
from .classifiers import CNNClassifier, HOGSVMClassifier, TransferClassifier
from .datasets import decode_images, load_fer2013, load_image_folder, load_labeled_images, make_faces
from .evaluation import (
    evaluate,
    plot_class_metrics,
    plot_confusion_matrix,
    plot_model_comparison,
    plot_prediction_grid,
    plot_training_curves,
    write_json,
)
from .explain import METHODS, explain, overlay, plot_class_heatmaps, plot_explanations
from .preprocessing import FaceCropper

FAMILIES = ("hog", "cnn", "transfer")
MODEL_HELP = "a fersk model file, or the name of a pretrained model fersk ships (fer2013)"


# -- data -------------------------------------------------------------------------------


def _add_data_options(parser):
    group = parser.add_argument_group("data (default: synthetic faces from fersk.make_faces)")
    group.add_argument(
        "--data", help="a dataset: FER2013 folder or CSV, class folders, or an image folder with --labels"
    )
    group.add_argument("--format", choices=["auto", "fer2013", "folder", "labeled"], default="auto")
    group.add_argument("--labels", help="labels CSV, for --format labeled")
    group.add_argument("--split-csv", help="a split CSV (image,split) for --format labeled; else a 80/20 split")
    group.add_argument("--n-samples", type=int, default=2100, help="synthetic faces to draw (default: 2100)")
    group.add_argument("--image-size", type=int, default=48, help="side of synthetic faces (default: 48)")
    group.add_argument("--difficulty", type=float, default=0.3, help="synthetic difficulty, 0-1 (default: 0.3)")
    group.add_argument("--seed", type=int, default=0, help="random seed of data, split and models (default: 0)")


def _load(args):
    """``(X_train, y_train, X_test, y_test, description)`` for the chosen data."""
    if args.data is None:
        X, y = make_faces(
            args.n_samples, image_size=args.image_size, difficulty=args.difficulty, random_state=args.seed
        )
        description = f"synthetic faces: make_faces({args.n_samples}, difficulty={args.difficulty}, seed {args.seed})"
        return (*_split(X, y, args.seed), description)
    path = Path(args.data)
    if not path.exists():
        raise ValueError(f"--data {path} does not exist")
    if args.format == "fer2013" or (args.format == "auto" and _looks_like_fer2013(path)):
        data = load_fer2013(path)
        train, test = data.usage == "Training", data.usage == "PrivateTest"
        description = f"FER2013 at {path}: Training / PrivateTest"
        return data.data[train], data.target[train], data.data[test], data.target[test], description
    if args.format == "labeled" or args.labels:
        if not args.labels:
            raise ValueError("--format labeled needs --labels CSV")
        data = load_labeled_images(path, args.labels, split_csv=args.split_csv)
        if args.split_csv:
            test = np.asarray(data.split) == "test"
            description = f"{path} labelled by {args.labels}, split by {args.split_csv}"
            return data.data[~test], data.target[~test], data.data[test], data.target[test], description
        return (*_split(data.data, data.target, args.seed), f"{path} labelled by {args.labels}, 80/20 split")
    data = load_image_folder(path)
    return (*_split(data.data, data.target, args.seed), f"class folders in {path}, 80/20 split")


def _split(X, y, seed):
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    return X_train, y_train, X_test, y_test


def _looks_like_fer2013(path):
    return path.name.startswith("fer2013") or (path / "train").is_dir() or (path / "fer2013.csv").is_file()


# -- models -----------------------------------------------------------------------------


def _add_model_options(parser):
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


def _model(family, args):
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


def _name(family, args):
    return {"hog": "HOG+SVM", "cnn": "CNN (from scratch)", "transfer": f"Transfer ({args.backbone})"}[family]


def _slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _say(args, message):
    if not args.quiet:
        print(message, flush=True)


# -- compare ----------------------------------------------------------------------------


def compare(args):
    """Train and evaluate the families side by side; write report.md, metrics.json and PNGs."""
    X_train, y_train, X_test, y_test, description = _load(args)
    families = _families(args.models)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _say(args, f"fersk compare: {description}; {len(y_train)} training and {len(y_test)} test images")
    results, fitted = {}, {}
    for family in families:
        name = _name(family, args)
        _say(args, f"[{len(results) + 1}/{len(families)}] training {name} ...")
        model = _model(family, args)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        result = evaluate(model, X_test, y_test)
        result["fit_seconds"] = round(time.perf_counter() - start - result["predict_seconds"], 1)
        results[name], fitted[name] = result, model
        _say(
            args,
            f"    accuracy {result['accuracy']:.2%}, macro-F1 {result['macro_f1']:.3f}, {result['fit_seconds']:.0f} s",
        )
    _say(args, "writing plots and explanations ...")
    sections = _write_plots(out, fitted, results, X_test, y_test)
    metrics = {"data": description, "n_train": len(y_train), "n_test": len(y_test), "models": results}
    write_json(metrics, out / "metrics.json")
    table = _comparison_table(results)
    (out / "report.md").write_text(_report(description, len(y_train), len(y_test), table, results, sections))
    print(table)
    print(f"\nReport written to {out / 'report.md'}, with metrics.json and the plots beside it")
    return 0


def _families(models):
    chosen = [m.strip() for m in models.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(FAMILIES))
    if unknown or not chosen:
        raise ValueError(f"--models takes a comma-separated list of {', '.join(FAMILIES)}; got {models!r}")
    return chosen


def _write_plots(out, fitted, results, X_test, y_test):
    """Save every plot; returns the report's per-model sections (markdown)."""
    _save(plot_model_comparison(results), out / "comparison.png")
    sections = []
    for name, model in fitted.items():
        slug = _slug(name)
        lines = [f"### {name}", ""]
        _save(plot_confusion_matrix(results[name], title=name), out / f"confusion-{slug}.png")
        _save(plot_class_metrics(results[name], title=name), out / f"class-metrics-{slug}.png")
        lines.append(f"![confusion matrix](confusion-{slug}.png) ![per-class metrics](class-metrics-{slug}.png)")
        if hasattr(model, "module_"):
            _save(plot_training_curves(model, title=name), out / f"curves-{slug}.png")
            _save(plot_explanations(model, X_test, y_test), out / f"gradcam-{slug}.png")
            _save(plot_class_heatmaps(model, X_test, y_test, max_per_class=32), out / f"gradcam-classes-{slug}.png")
            lines += [
                "",
                f"![training curves](curves-{slug}.png)",
                "",
                "Grad-CAM on correct (top) and wrong (bottom) predictions, then the mean map per class:",
                "",
                f"![Grad-CAM](gradcam-{slug}.png)",
                "",
                f"![Grad-CAM per class](gradcam-classes-{slug}.png)",
            ]
        sections.append("\n".join(lines))
    best = max(results, key=lambda n: results[n]["macro_f1"])
    model = fitted[best]
    proba = model.predict_proba(X_test[:32])
    images = X_test[:32].reshape(-1, *model.image_shape_)
    _save(
        plot_prediction_grid(
            images,
            y_test[:32],
            model.classes_[proba.argmax(1)],
            proba.max(1),
            title=f"{best}: the first 32 test images",
        ),
        out / "predictions.png",
    )
    sections.append(f"### Predictions of the best model, {best}\n\n![predictions](predictions.png)")
    return sections


def _save(fig, path):
    fig.savefig(path, dpi=110)


def _comparison_table(results):
    rows = [
        "| model | accuracy | balanced accuracy | macro-F1 | training time |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['accuracy']:.2%} | {r['balanced_accuracy']:.2%} | {r['macro_f1']:.3f} | "
            f"{r['fit_seconds']:.0f} s |"
        )
    return "\n".join(rows)


def _report(description, n_train, n_test, table, results, sections):
    names = list(results)
    classes = next(iter(results.values()))["classes"]
    per_class = ["| class | support | " + " | ".join(f"{n} F1" for n in names) + " |"]
    per_class.append("|---|---:|" + "---:|" * len(names))
    for c in classes:
        support = results[names[0]]["per_class"][str(c)]["support"]
        f1s = " | ".join(f"{results[n]['per_class'][str(c)]['f1']:.3f}" for n in names)
        per_class.append(f"| {c} | {support} | {f1s} |")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return "\n".join(
        [
            "# fersk compare",
            "",
            f"Data: {description}; {n_train} training and {n_test} test images.",
            f"Run on {date.today().isoformat()}, {machine}. Training time includes validation-based early stopping.",
            "",
            "## Comparison",
            "",
            table,
            "",
            "![model comparison](comparison.png)",
            "",
            "## Per-class F1",
            "",
            *per_class,
            "",
            "## Each model",
            "",
            "\n\n".join(sections),
            "",
        ]
    )


# -- train / evaluate -------------------------------------------------------------------


def train(args):
    """Train one model on the data's training part and save it as a fersk model file."""
    X_train, y_train, _, _, description = _load(args)
    _say(args, f"fersk train: {_name(args.model, args)} on {description}; {len(y_train)} training images")
    model = _model(args.model, args)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    path = io.save(model, args.out)
    _say(args, f"trained in {time.perf_counter() - start:.0f} s; model written to {path}")
    return 0


def evaluate_command(args):
    """Evaluate a model file on the data's test part; write metrics.json and plots."""
    model = _load_model(args.model)
    _, _, X_test, y_test, description = _load(args)
    result = evaluate(model, X_test, y_test)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json({"model": str(args.model), "data": description, **result}, out / "metrics.json")
    _save(plot_confusion_matrix(result), out / "confusion.png")
    _save(plot_class_metrics(result), out / "class-metrics.png")
    if hasattr(model, "module_") and len(model.history):
        _save(plot_training_curves(model), out / "curves.png")
    print(f"{description}: {len(y_test)} test images")
    print(
        f"accuracy {result['accuracy']:.2%}, balanced accuracy {result['balanced_accuracy']:.2%}, "
        f"macro-F1 {result['macro_f1']:.3f}"
    )
    print("| class | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|")
    for c, m in result["per_class"].items():
        print(f"| {c} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    print(f"metrics and plots written to {out}")
    return 0


def _load_model(spec):
    """A fersk model file, or the name of a pretrained model fersk ships ("fer2013")."""
    if shipped_name(spec):
        return io.load_pretrained(spec)
    if not Path(spec).is_file():
        raise ValueError(
            f"no model file at {spec}; pass a .fersk file (fersk train writes one) or the name of a "
            f"pretrained model fersk ships: {', '.join(sorted(PRETRAINED))}"
        )
    return io.load(spec)


# -- predict / explain ------------------------------------------------------------------


def _read_photos(paths, model, crop_faces):
    """Images at the model's input shape; returns ``(X, kept_paths)``; unreadable files are reported."""
    h, w, c = model.image_shape_
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise ValueError(f"no such image file(s): {', '.join(map(str, missing[:5]))}")
    if crop_faces:
        if h != w:
            raise ValueError(f"--crop-faces makes square crops, but this model takes {h}x{w} images")
        return FaceCropper(output_size=h, grayscale=c == 1).transform([str(p) for p in paths]), list(paths)
    images, ok, reasons = decode_images([str(p) for p in paths], image_size=(h, w), grayscale=c == 1, cache_dir=False)
    for path, reason in zip(paths, reasons):
        if reason:
            print(f"skipped {path}: {reason}", file=sys.stderr)
    if not ok.any():
        raise ValueError("none of the images could be read")
    return images.reshape(len(images), -1), [p for p, good in zip(paths, ok) if good]


def predict(args):
    """Per-emotion probabilities for each image, printed and optionally written as CSV."""
    model = _load_model(args.model)
    X, paths = _read_photos(args.images, model, args.crop_faces)
    proba = model.predict_proba(X)
    classes = [str(c) for c in model.classes_]
    rows = [
        {"image": str(p), "predicted": classes[int(np.argmax(row))], **dict(zip(classes, row.round(4).tolist()))}
        for p, row in zip(paths, proba)
    ]
    header = ["image", "predicted", *classes]
    print("\t".join(header))
    for row in rows:
        print("\t".join(str(row[k]) for k in header))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        print(f"probabilities written to {args.csv}", file=sys.stderr)
    return 0


def explain_command(args):
    """An attribution heatmap over one face, side by side with the face, as a PNG."""
    from matplotlib.figure import Figure

    model = _load_model(args.model)
    X, _ = _read_photos([args.image], model, args.crop_faces)
    proba = model.predict_proba(X)[0]
    target = args.target if args.target is not None else model.classes_[int(np.argmax(proba))]
    heat = explain(model, X, method=args.method, target=target)[0]
    image = X[0].reshape(model.image_shape_)
    fig = Figure(figsize=(5, 2.8))
    left, right = fig.subplots(1, 2)
    left.imshow(image.squeeze(), cmap="gray" if image.shape[2] == 1 else None, vmin=0, vmax=255)
    left.set_title(f"predicted {model.classes_[int(np.argmax(proba))]} {proba.max():.0%}", fontsize=9)
    right.imshow(overlay(image, heat))
    right.set_title(f"{args.method} for {target}", fontsize=9)
    for ax in (left, right):
        ax.set_axis_off()
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(
        f"{args.image}: predicted {model.classes_[int(np.argmax(proba))]} ({proba.max():.0%}); "
        f"{args.method} for {target} written to {args.out}"
    )
    return 0


# -- the parser -------------------------------------------------------------------------


def build_parser():
    """The argument parser of the ``fersk`` command."""
    parser = argparse.ArgumentParser(
        prog="fersk", description="Facial expression recognition in the scikit-learn style."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cmp = commands.add_parser(
        "compare",
        help="train and evaluate HOG+SVM, a CNN and transfer learning side by side; write a report",
        description="Train and evaluate HOG+SVM, a CNN from scratch and a transfer-learning backbone on one "
        "dataset (default: built-in synthetic faces), and write a report folder: report.md, metrics.json, PNGs.",
    )
    _add_data_options(cmp)
    _add_model_options(cmp)
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
    _add_data_options(trn)
    _add_model_options(trn)
    trn.set_defaults(handler=train)

    evl = commands.add_parser(
        "evaluate",
        help="evaluate a model file on the test part of the data",
        description="Evaluate a fersk model file; print the figures and write metrics.json and plots.",
    )
    evl.add_argument("model", help=MODEL_HELP)
    evl.add_argument("--out", default="fersk-evaluation", help="folder for metrics.json and plots")
    _add_data_options(evl)
    evl.set_defaults(handler=evaluate_command)

    prd = commands.add_parser(
        "predict",
        help="per-emotion probabilities for image files",
        description="Predict the emotion in each image; print per-emotion probabilities, optionally as CSV.",
    )
    prd.add_argument("images", nargs="+", help="image files")
    prd.add_argument("--model", required=True, help=MODEL_HELP)
    prd.add_argument("--crop-faces", action="store_true", help="find and crop the largest face first (photos)")
    prd.add_argument("--csv", help="write the probabilities to this CSV file")
    prd.set_defaults(handler=predict)

    exp = commands.add_parser(
        "explain",
        help="a heatmap of where the model looks, over one image",
        description="Explain one prediction: write the face and its attribution heatmap side by side as a PNG.",
    )
    exp.add_argument("image", help="an image file")
    exp.add_argument("--model", required=True, help=MODEL_HELP)
    exp.add_argument("--out", default="explanation.png", help="PNG to write (default: explanation.png)")
    exp.add_argument("--method", choices=METHODS, default="gradcam")
    exp.add_argument("--target", help="the class to explain (default: the predicted one)")
    exp.add_argument("--crop-faces", action="store_true", help="find and crop the largest face first (photos)")
    exp.set_defaults(handler=explain_command)

    for sub in (cmp, trn):
        sub.add_argument("--quiet", action="store_true", help="print only the results")
    for sub in (evl, prd, exp):
        sub.set_defaults(quiet=False)
    return parser


def main(argv=None):
    """Run the ``fersk`` command; returns its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"fersk {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
