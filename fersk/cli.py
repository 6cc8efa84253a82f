"""The ``fersk`` command."""

import argparse
import json
import sys
import time
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from .classifiers import CNNClassifier, HOGSVMClassifier, TransferClassifier
from .datasets import load_fer2013, load_image_folder, load_labeled_images, make_faces


def _load(args):
    """(X_train, X_test, y_train, y_test, description) for the chosen data."""
    if args.data is None:
        X, y = make_faces(args.n_samples, difficulty=args.difficulty, random_state=args.seed)
        description = f"make_faces({args.n_samples}, difficulty={args.difficulty}, random_state={args.seed})"
    elif args.format == "fer2013" or (args.format == "auto" and _looks_like_fer2013(args.data)):
        data = load_fer2013(args.data)
        train, test = data.usage == "Training", data.usage == "PrivateTest"
        return (
            data.data[train],
            data.data[test],
            data.target[train],
            data.target[test],
            "FER2013 (Training / PrivateTest)",
        )
    elif args.format == "labeled" or args.labels:
        if not args.labels:
            raise SystemExit("fersk compare: --format labeled needs --labels CSV")
        data = load_labeled_images(args.data, args.labels)
        X, y, description = data.data, data.target, f"{args.data} labelled by {args.labels}"
    else:
        data = load_image_folder(args.data)
        X, y, description = data.data, data.target, f"class folders in {args.data}"
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=args.seed)
    return X_train, X_test, y_train, y_test, description


def _looks_like_fer2013(path):
    path = Path(path)
    return path.name.startswith("fer2013") or (path / "train").is_dir() or (path / "fer2013.csv").is_file()


def _models(args):
    return {
        "HOG+SVM": HOGSVMClassifier(n_jobs=-1, random_state=args.seed),
        "CNN (from scratch)": CNNClassifier(
            max_epochs=args.epochs, class_weight="balanced", random_state=args.seed, progress=args.progress
        ),
        f"Transfer ({args.backbone})": TransferClassifier(
            args.backbone,
            weights=None if args.weights == "none" else args.weights,
            max_epochs=args.epochs,
            class_weight="balanced",
            random_state=args.seed,
            progress=args.progress,
        ),
    }


def compare(args):
    """Train and evaluate the three families; print a table and write a report folder."""
    X_train, X_test, y_train, y_test, description = _load(args)
    print(f"fersk compare: {description}; {len(y_train)} training and {len(y_test)} test images")
    rows, metrics = [], {"data": description, "models": {}}
    for name, model in _models(args).items():
        print(f"  training {name} ...", flush=True)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        predicted = model.predict(X_test)
        result = {
            "accuracy": accuracy_score(y_test, predicted),
            "macro_f1": f1_score(y_test, predicted, average="macro"),
            "train_seconds": seconds,
        }
        metrics["models"][name] = result
        rows.append(f"| {name} | {result['accuracy']:.2%} | {result['macro_f1']:.3f} | {seconds:.0f} s |")
        print(f"    accuracy {result['accuracy']:.2%}, macro-F1 {result['macro_f1']:.3f}, {seconds:.0f} s")
    table = "\n".join(["| model | accuracy | macro-F1 | training time |", "|---|---:|---:|---:|", *rows])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "report.md").write_text(f"# fersk compare\n\nData: {description}\n\n{table}\n")
    print()
    print(table)
    print(f"\nReport written to {out}/report.md and {out}/metrics.json")
    return 0


def build_parser():
    """The argument parser of the ``fersk`` command."""
    parser = argparse.ArgumentParser(prog="fersk", description="Facial expression recognition.")
    commands = parser.add_subparsers(dest="command", required=True)
    cmp = commands.add_parser(
        "compare",
        help="train and evaluate HOG+SVM, a CNN and transfer learning side by side",
        description="Train and evaluate HOG+SVM, a CNN from scratch and a transfer-learning "
        "backbone on one dataset (default: built-in synthetic faces), and write a report.",
    )
    cmp.add_argument("--data", help="dataset path (default: synthetic faces from make_faces)")
    cmp.add_argument("--format", choices=["auto", "fer2013", "folder", "labeled"], default="auto")
    cmp.add_argument("--labels", help="labels CSV, for --format labeled")
    cmp.add_argument("--out", default="fersk-report", help="report folder (default: fersk-report)")
    cmp.add_argument("--n-samples", type=int, default=2100, help="synthetic faces to draw")
    cmp.add_argument("--difficulty", type=float, default=0.3, help="synthetic difficulty, 0-1")
    cmp.add_argument("--epochs", type=int, default=15, help="maximum epochs of the neural models")
    cmp.add_argument("--backbone", default="resnet18", help="transfer-learning backbone")
    cmp.add_argument("--weights", default="none", help="'imagenet', 'none' or a state-dict path")
    cmp.add_argument("--seed", type=int, default=0)
    cmp.add_argument("--progress", action="store_true", help="show a progress bar per epoch")
    cmp.set_defaults(handler=compare)
    return parser


def main(argv=None):
    """Run the ``fersk`` command; returns its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as exc:
        print(f"fersk {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
