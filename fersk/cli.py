"""The ``fersk`` command: compare, train, evaluate, predict, explain."""

import argparse
import csv
import sys
import time
from pathlib import Path

from sklearn.utils import Bunch

from . import io
from ._export import INPUT_DTYPES, export_onnx
from ._pretrained import DEFAULT_MODEL, PRETRAINED, shipped_name
from .classifiers import CNNClassifier, HOGSVMClassifier, TransferClassifier
from .datasets import FORMATS, decode_images, load_dataset, make_faces, train_test_parts
from .evaluation import (
    DETECTORS,
    comparison_table,
    cross_dataset_evaluation,
    cross_dataset_table,
    evaluate,
    load_test_faces,
    plot_cross_dataset,
    write_evaluation,
    write_json,
    write_report,
)
from .explain import METHODS, plot_explanation
from .faces import analyze_faces, write_annotated
from .preprocessing import FaceCropper

FAMILIES = ("hog", "cnn", "transfer")
MODEL_HELP = "a fersk model file, or the name of a pretrained model fersk ships (fer2013, fer2013-muxspace)"
DEFAULT_HELP = f"{MODEL_HELP}; default: {DEFAULT_MODEL}"


# -- data -------------------------------------------------------------------------------


def _add_data_options(parser, many=False):
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


def _load(args):
    """``(X_train, y_train, X_test, y_test, description)`` for the chosen data."""
    if args.data is None:
        X, y = make_faces(
            args.n_samples, image_size=args.image_size, difficulty=args.difficulty, random_state=args.seed
        )
        data, source = Bunch(data=X, target=y), f"synthetic faces: make_faces({args.n_samples}, "
        source += f"difficulty={args.difficulty}, seed {args.seed})"
    else:
        data = load_dataset(args.data, args.format, labels=args.labels, split_csv=args.split_csv)
        source = f"{data.format} data at {args.data}"
    *parts, how = train_test_parts(data, random_state=args.seed)
    return (*parts, f"{source}, {how}")


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


def _say(args, message):
    if not args.quiet:
        print(message, flush=True)


# -- compare ----------------------------------------------------------------------------


def compare(args):
    """Train and evaluate the families side by side; write report.md, metrics.json and PNGs."""
    X_train, y_train, X_test, y_test, description = _load(args)
    families = _families(args.models)
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
    table = write_report(args.out, fitted, results, X_test, y_test, description=description, n_train=len(y_train))
    print(table)
    print(f"\nReport written to {Path(args.out) / 'report.md'}, with metrics.json and the plots beside it")
    return 0


def _families(models):
    chosen = [m.strip() for m in models.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(FAMILIES))
    if unknown or not chosen:
        raise ValueError(f"--models takes a comma-separated list of {', '.join(FAMILIES)}; got {models!r}")
    return chosen


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
    """Score models on the test part of datasets: one pair writes metrics.json and plots, more the cross table."""
    models = {str(spec): _load_model(spec) for spec in args.model}
    datasets = {}
    for path in args.data or [None]:
        name, faces = _test_faces(args, path, next(iter(models.values())))
        datasets[name] = faces
        print(f"{name}: {len(faces.target)} test images, {faces.how}")
    if len(models) == len(datasets) == 1:
        (model_name, model), (data_name, faces) = *models.items(), *datasets.items()
        result = evaluate(model, faces.data, faces.target)
        write_evaluation(args.out, model, result, model=model_name, data=f"{data_name}, {faces.how}")
        print(comparison_table({model_name: result}))
        print("\n| class | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|")
        for c, m in result["per_class"].items():
            print(f"| {c} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    else:
        result = cross_dataset_evaluation(models, datasets)
        out = Path(args.out)
        write_json(result, out / "cross-dataset.json")
        for metric in ("accuracy", "macro_f1"):
            plot_cross_dataset(result, metric=metric).savefig(out / f"cross-dataset-{metric}.png", dpi=110)
        print("accuracy / macro-F1 on each dataset's test part, on the classes model and dataset share:\n")
        print(cross_dataset_table(result))
    print(f"metrics and plots written to {args.out}")
    return 0


def _test_faces(args, path, model):
    """``(name, Bunch)``: a dataset's test faces as ``model`` takes them; synthetic faces without a path."""
    if path is None:
        *_, X_test, y_test, description = _load(args)
        return "synthetic", Bunch(data=X_test, target=y_test, how=description)
    h, _, c = model.image_shape_
    faces = load_test_faces(
        path,
        image_size=h,
        grayscale=c == 1,
        detector=args.detector,
        random_state=args.seed,
        format=args.format,
        labels=args.labels,
        split_csv=args.split_csv,
    )
    if faces.detector:
        faces.how += f"; faces found by {faces.detector} and framed as fersk predict frames them"
    return Path(path).name, faces


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
    """One row per face of each photo: box, predicted emotion, probabilities; printed, as CSV, drawn."""
    model = _load_model(args.model)
    missing = [p for p in args.images if not Path(p).is_file()]
    if missing:
        raise ValueError(f"no such image file(s): {', '.join(map(str, missing[:5]))}")
    if args.crop_faces:
        print(
            "fersk predict: --crop-faces is deprecated and will be removed in the next release: predict now finds "
            "every face; --crop-faces keeps only the largest one",
            file=sys.stderr,
        )
    detector = None if args.detector == "none" else args.detector
    records = analyze_faces(model, args.images, detector=detector)
    if args.crop_faces:
        records = [r for r in records if not r.face]  # the largest face (0), or the image's no-face record
    rows = [r.to_dict(decimals=4) for r in records]
    header = list(rows[0])
    print("\t".join(header))
    for row in rows:
        print("\t".join("-" if row[k] is None else str(row[k]) for k in header))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        print(f"rows written to {args.csv}", file=sys.stderr)
    if args.annotate:
        for path in write_annotated(args.images, records, args.annotate):
            print(f"annotated photo written to {path}", file=sys.stderr)
    without = sum(not r.face_found for r in records)
    print(
        f"photos: {len(args.images)}, faces: {len(records) - without}, photos without a face: {without}"
        + (" (classified whole)" if without else ""),
        file=sys.stderr,
    )
    return 0


def explain_command(args):
    """An attribution heatmap over one face, side by side with the face, as a PNG."""
    model = _load_model(args.model)
    X, _ = _read_photos([args.image], model, args.crop_faces)
    fig = plot_explanation(model, X, method=args.method, target=args.target)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"{args.image}: {fig.axes[0].get_title()}; {fig.axes[1].get_title()} written to {args.out}")
    return 0


def export_command(args):
    """The model as an ONNX file: pixel rows in, class probabilities out, TTA and preprocessing inside."""
    model = _load_model(args.model)
    if args.tta != "model":
        model.set_params(tta=None if args.tta == "none" else args.tta)
    path = export_onnx(model, args.out, input_dtype=args.input_dtype)
    h, w, c = model.image_shape_
    print(
        f"{path}: input 'images' (n, {h * w * c}), {args.input_dtype} pixels 0-255 of {h}x{w}x{c} images; "
        f"output 'probabilities' (n, {len(model.classes_)}): {', '.join(map(str, model.classes_))}; tta {model.tta}"
    )
    return 0


def video_command(args):
    """Faces of a video tracked and classified: frames.csv, timeline.png and, with --annotate, annotated.mp4."""
    from .video import analyze_video, plot_emotion_timeline, write_annotated_video

    model = _load_model(args.model)
    records = analyze_video(
        model, args.video, every=args.every, fps=args.fps, detect_every=args.detect_every, progress=None
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records.to_csv(out / "frames.csv")
    plot_emotion_timeline(records).savefig(out / "timeline.png", dpi=110)
    written = ["frames.csv", "timeline.png"]
    if args.annotate:
        write_annotated_video(args.video, records, out / "annotated.mp4")
        written.append("annotated.mp4")
    summary = records.summary()
    print(
        f"{args.video}: {len(records.frames_analysed)} frames analysed, {len(summary)} face"
        f"{'' if len(summary) == 1 else 's'} tracked, no face in {len(records.frames_without_face)}"
    )
    for fid, face in summary.items():
        share, frames = face["mean"][face["dominant"]], f"{face['frames']} frame" + "s" * (face["frames"] != 1)
        print(
            f"face {fid}: {face['dominant']} ({share:.0%} on average) in {frames}, "
            f"{face['first']:.2f}-{face['last']:.2f} s"
        )
    print(f"{', '.join(written)} written to {out}")
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
    _add_data_options(evl, many=True)
    evl.set_defaults(handler=evaluate_command)

    prd = commands.add_parser(
        "predict",
        help="find every face in photos and predict its emotion",
        description="Find every face in each photo and predict its emotion: one row per face (image, face, box, "
        "detector score, predicted emotion, per-emotion probabilities); a photo with no face gets one row that "
        "says so, classified whole. For images that are already face crops, use --detector none.",
    )
    prd.add_argument("images", nargs="+", help="image files")
    prd.add_argument("--model", default=DEFAULT_MODEL, help=DEFAULT_HELP)
    prd.add_argument(
        "--detector",
        choices=("mtcnn", "lbp", "none"),
        default="mtcnn",
        help="face detector (default: mtcnn); none: each whole image is one face, for face crops",
    )
    prd.add_argument("--csv", help="write the rows to this CSV file")
    prd.add_argument("--annotate", metavar="DIR", help="write each photo with boxes and labels as DIR/<name>.png")
    prd.add_argument("--crop-faces", action="store_true", help="deprecated: keep only the largest face of each photo")
    prd.set_defaults(handler=predict)

    exp = commands.add_parser(
        "explain",
        help="a heatmap of where the model looks, over one image",
        description="Explain one prediction: write the face and its attribution heatmap side by side as a PNG.",
    )
    exp.add_argument("image", help="an image file")
    exp.add_argument("--model", default=DEFAULT_MODEL, help=DEFAULT_HELP)
    exp.add_argument("--out", default="explanation.png", help="PNG to write (default: explanation.png)")
    exp.add_argument("--method", choices=METHODS, default="gradcam")
    exp.add_argument("--target", help="the class to explain (default: the predicted one)")
    exp.add_argument("--crop-faces", action="store_true", help="find and crop the largest face first (photos)")
    exp.set_defaults(handler=explain_command)

    onx = commands.add_parser(
        "export",
        help="write a neural model as an ONNX file, for onnxruntime and other runtimes",
        description="Export a CNN or transfer model to ONNX: input pixel rows 0-255, output class probabilities, "
        "with the scaling, resizing, normalisation and test-time augmentation in the graph. Needs fersk[onnx].",
    )
    onx.add_argument("model", help=MODEL_HELP)
    onx.add_argument("out", help="ONNX file to write")
    onx.add_argument("--input-dtype", choices=sorted(INPUT_DTYPES), default="float32", help="(default: float32)")
    onx.add_argument(
        "--tta",
        choices=("model", "none", "flip", "crops"),
        default="model",
        help="test-time augmentation in the graph (default: the model's own)",
    )
    onx.set_defaults(handler=export_command, quiet=False)

    vid = commands.add_parser(
        "video",
        help="track and classify the faces of a video: per-frame CSV, timeline PNG, annotated MP4",
        description="Find, track and classify every face of a video; write DIR/frames.csv (one row per face per "
        "analysed frame), DIR/timeline.png and, with --annotate, DIR/annotated.mp4.",
    )
    vid.add_argument("video", help="a video file (MP4, MKV, AVI, WebM...)")
    vid.add_argument("--model", default=DEFAULT_MODEL, help=DEFAULT_HELP)
    rate = vid.add_mutually_exclusive_group()
    rate.add_argument("--every", type=int, default=1, help="analyse every N-th frame (default: 1)")
    rate.add_argument("--fps", type=float, help="analyse about this many frames per second of video")
    vid.add_argument(
        "--detect-every", type=int, default=1, help="detect faces on every N-th analysed frame, track between"
    )
    vid.add_argument("--out", default="fersk-video", help="output folder (default: fersk-video)")
    vid.add_argument("--annotate", action="store_true", help="also write annotated.mp4 with boxes and labels")
    vid.set_defaults(handler=video_command, quiet=False)

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
