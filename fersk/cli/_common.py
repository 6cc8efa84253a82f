"""What several subcommands share: the model argument, the data and model options."""

import time
from pathlib import Path

from sklearn.utils import Bunch

from .. import io
from .._pretrained import DEFAULT_MODEL, PRETRAINED, shipped_name
from ..classifiers import CNNClassifier, HOGSVMClassifier, TransferClassifier
from ..datasets import FORMATS, load_dataset, make_faces, train_test_parts

FAMILIES = ("hog", "cnn", "transfer")
MODEL_HELP = "a fersk model file, or the name of a pretrained model fersk ships (fer2013, fer2013-muxspace)"
DEFAULT_HELP = f"{MODEL_HELP}; default: {DEFAULT_MODEL}"


def load_model(spec):
    """A fersk model file, or the name of a pretrained model fersk ships ("fer2013")."""
    if shipped_name(spec):
        return io.load_pretrained(spec)
    if not Path(spec).is_file():
        raise ValueError(
            f"no model file at {spec}; pass a .fersk file (fersk train writes one) or the name of a "
            f"pretrained model fersk ships: {', '.join(sorted(PRETRAINED))}"
        )
    return io.load(spec)


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


def load_data(args, path=None):
    """``(X_train, y_train, X_test, y_test, description)`` of the dataset at ``path`` (default
    ``args.data``), or of synthetic faces when there is none."""
    path = args.data if path is None else path
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
    """``model`` fitted; returns its training time in seconds."""
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def say(args, message):
    if not getattr(args, "quiet", False):
        print(message, flush=True)
