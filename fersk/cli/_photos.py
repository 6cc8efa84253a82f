"""``fersk predict``, ``explain`` and ``video``: a trained model put to work on photos and videos."""

import argparse
import sys
import warnings
from pathlib import Path

from .._atomic import save_figure
from .._pretrained import DEFAULT_MODEL
from ..datasets import IMAGE_EXTENSIONS, count_frames
from ..exceptions import FerskDataWarning
from ..explain import METHODS, plot_explanation
from ..faces import MTCNNDetector, analyze_faces, face_inputs, prediction_answers, split_face_cropper, write_annotated
from ._batch import add_batch_options, predict_batch, video_batch
from ._common import (
    DEFAULT_HELP,
    READER_LEFT,
    SKIPPED,
    add_detector_option,
    load_model,
    output_file,
    output_folder,
    print_rows,
    whole_number,
)

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".mpg", ".mpeg", ".ts", ".m2ts"}
VIDEO_SUFFIXES |= {".mts", ".3gp", ".3g2", ".ogv", ".vob", ".mxf", ".asf", ".rm", ".rmvb", ".f4v", ".divx"}
ANIMATIONS = {".gif", ".png"}  # image files that fersk video reads too, when they hold more than one frame


def predict(args):
    """One row per face of each photo: box, predicted emotion, probabilities; printed, as CSV, drawn."""
    detector = _detector(args)
    model = load_model(args.model)
    asked = {"coverage": args.coverage, "abstain_precision": args.abstain_precision}
    prediction_answers(model, None, **asked)  # a model without calibration scores: said before the photos are read
    if args.scheduler or args.out:
        return predict_batch(args, detector, asked)
    missing = [p for p in args.images if not Path(p).exists()]
    if missing:
        raise ValueError(f"no such image file(s): {', '.join(map(str, missing[:5]))}")
    videos = [p for p in args.images if Path(p).suffix.lower() in VIDEO_SUFFIXES]
    if videos:
        raise ValueError(f"{videos[0]} is a video: find, follow and classify its faces with `fersk video {videos[0]}`")
    csv_file = args.csv and output_file(args.csv, "--csv")  # before the work, not after it
    annotated = args.annotate and output_folder(args.annotate, "--annotate")
    images = _image_files(args.images, leave_out=annotated)  # not the annotated photos of an earlier run
    drawn_over = [p for p in images if annotated and Path(p).suffix.lower() == ".png" and _inside(p, annotated)]
    if drawn_over:
        raise ValueError(
            f"--annotate {args.annotate} holds photos to predict ({', '.join(drawn_over[:3])}), which their "
            "annotated copies would overwrite: choose another folder"
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "skipped .* images that cannot be read", FerskDataWarning)  # said below
        records = analyze_faces(model, images, detector=detector, on_error="skip", **asked)
    if not records:
        unreadable = "; ".join(f"{path}: {reason}" for path, reason in records.unreadable.items())
        raise ValueError(
            f"cannot read image {unreadable}" if len(images) == 1 else f"cannot read any image: {unreadable}"
        )
    for path, reason in records.unreadable.items():
        print(f"fersk predict: skipped {path}: {reason}", file=sys.stderr)
    for path in images:
        _say_first_frame(path, records.unreadable)
    if csv_file:  # the files first: a reader of stdout that leaves early (| head) must not lose them
        print(f"rows written to {records.to_csv(csv_file, decimals=4)}", file=sys.stderr)
    for path in write_annotated(images, records, annotated) if annotated else ():
        print(f"annotated photo written to {path}", file=sys.stderr)
    if print_rows(lambda: records.to_csv(sys.stdout, delimiter="\t", decimals=4, na_rep="-")):
        return READER_LEFT
    without = len(records.images_without_face)
    print(
        f"photos: {records.n_images}, faces: {len(records) - without}, photos without a face: {without}"
        + (" (classified whole)" if without else "")
        + (f", photos that cannot be read: {len(records.unreadable)} (skipped)" if records.unreadable else ""),
        file=sys.stderr,
    )
    _say_confidence(model, records)
    return SKIPPED if records.unreadable else 0


def _say_confidence(model, records):
    """On stderr: what the prediction_set and unsure columns mean, with the thresholds they came from."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    summary = records.summary()
    if records.coverage is not None:
        by_expert = vars(final).get("expert_conformal_scores_")
        least = (
            " / ".join(f"{final.set_threshold(records.coverage, expert=k):.3f}" for k in range(len(by_expert)))
            + " (by the expert the gate chose)"
            if by_expert is not None
            else f"{final.set_threshold(records.coverage):.3f}"
        )
        print(
            f"prediction sets at {records.coverage:.0%} coverage: the classes at least {least} probable (from "
            f"{len(final.conformal_scores_)} validation faces); {summary['faces_with_several_classes']} face(s) "
            "with more than one class",
            file=sys.stderr,
        )
    if records.abstain_precision is not None:
        print(
            f"unsure below a top probability of {final.unsure_threshold(records.abstain_precision):.3f} "
            f"({records.abstain_precision:.0%} precision on validation faces): {summary['unsure']} face(s)",
            file=sys.stderr,
        )


def _detector(args):
    """``--detector``, with ``--detect-size`` for mtcnn."""
    if args.detect_size is None:
        return args.detector
    if args.detector != "mtcnn":
        raise ValueError(
            f"--detect-size sets how large mtcnn searches a photo; --detector {args.detector} has no such size"
        )
    return MTCNNDetector(detect_size=args.detect_size)


def _say_first_frame(path, unreadable):
    """Say on stderr that of an animation (a GIF, an animated WebP or PNG) the first frame was analysed."""
    if Path(path).suffix.lower() not in {*ANIMATIONS, ".webp"} or path in unreadable:
        return
    frames = count_frames(path)
    if frames > 1:
        rest = f"; `fersk video {path}` analyses them all" if Path(path).suffix.lower() in ANIMATIONS else ""
        print(f"fersk predict: {path} is an animation of {frames} frames: its first is analysed{rest}", file=sys.stderr)


def _image_files(paths, leave_out=None):
    """The paths given, each folder replaced by the image files in it and in its subfolders, sorted.

    Hidden files (a macOS ``._IMG.jpg``) are left out with the other files that are not images, and so
    is a subfolder ``leave_out`` (where ``--annotate`` writes).
    """
    files = []
    for path in map(Path, paths):
        if not path.is_dir():
            files.append(str(path))
            continue
        below = leave_out and _inside(leave_out, path) and Path(leave_out).resolve() != path.resolve()
        inside = sorted(p for p in path.rglob("*") if p.is_file() and not (below and _inside(p, leave_out)))
        hidden = [p for p in inside if any(part.startswith(".") for part in p.relative_to(path).parts)]
        images = [str(p) for p in inside if p.suffix.lower() in IMAGE_EXTENSIONS and p not in hidden]
        others = [p.name for p in inside if p.suffix.lower() not in IMAGE_EXTENSIONS or p in hidden]
        if not images:
            raise ValueError(f"no image files in the folder {path} ({', '.join(IMAGE_EXTENSIONS)})")
        if others:
            print(
                f"fersk predict: {path}: left out {len(others)} file(s) that are hidden or not images by their "
                f"suffix: {', '.join(others[:5])}{', ...' if len(others) > 5 else ''}",
                file=sys.stderr,
            )
        files += images
    return files


def _inside(path, folder):
    """Whether ``path`` is in ``folder`` or a folder below it."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def explain_command(args):
    """An attribution heatmap over the largest face of an image, beside the face, as a PNG."""
    model = load_model(args.model)
    classes = [str(c) for c in model.classes_]
    if args.target is not None and args.target not in classes:
        raise ValueError(f"--target {args.target} is not a class of this model; its classes: {', '.join(classes)}")
    out = output_file(args.out, "--out")  # before the work
    out = out if out.suffix else out.with_suffix(".png")  # as matplotlib names it
    X, records = face_inputs(model, args.image, detector=args.detector)
    if not records[0].face_found:
        print(f"fersk explain: no face found in {args.image}; explaining the whole image", file=sys.stderr)
    classifier, _ = split_face_cropper(model)  # the face is found: a pipeline's FaceCropper is not run again
    fig = plot_explanation(classifier, X[0], method=args.method, target=args.target)
    save_figure(fig, out, dpi=120)
    where = "the whole image" if records[0].score is None else "its largest face"
    print(f"{args.image}, {where}: {fig.axes[0].get_title()}; {fig.axes[1].get_title()} written to {out}")
    return 0


def video_command(args):
    """Faces of a video tracked and classified: frames.csv, timeline.png and, with --annotate, annotated.mp4."""
    from ..video import analyze_video, plot_emotion_timeline, video_info, write_annotated_video

    asked = {"coverage": args.coverage, "abstain_precision": args.abstain_precision}
    if args.scheduler or len(args.video) > 1 or args.segment_seconds is not None:
        prediction_answers(load_model(args.model), None, **asked)  # said before any worker starts
        return video_batch(args, asked)
    args.video = args.video[0]
    suffix = Path(args.video).suffix.lower()
    photo = suffix in IMAGE_EXTENSIONS and Path(args.video).is_file()  # a missing one is video_info's to say
    if photo and not (suffix in ANIMATIONS and count_frames(args.video) > 1):
        raise ValueError(f"{args.video} is a photo: find and classify its faces with `fersk predict {args.video}`")
    video_info(args.video)  # a missing file, a camera, not a video: said before the model loads
    model = load_model(args.model)
    prediction_answers(model, None, **asked)
    out = output_folder(args.out, "--out")
    if args.annotate and (out / "annotated.mp4").resolve() == Path(args.video).resolve():
        raise ValueError(
            f"--annotate would write {out / 'annotated.mp4'} over the video it reads: choose another --out"
        )
    every, fps, detect_every = args.every, args.fps, args.detect_every
    records = analyze_video(model, args.video, every=every, fps=fps, detect_every=detect_every, progress=None, **asked)
    records.to_csv(out / "frames.csv", decimals=4)
    save_figure(plot_emotion_timeline(records), out / "timeline.png", dpi=110)
    if args.annotate:
        write_annotated_video(args.video, records, out / "annotated.mp4")
    print(records.describe())
    print(f"frames.csv, timeline.png{', annotated.mp4' if args.annotate else ''} written to {out}")
    return 0


def _fraction(value):
    """An argparse type: a number between 0 and 1, such as 0.9."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number < 1:
        raise argparse.ArgumentTypeError(f"takes a number between 0 and 1, such as 0.9, got {value!r}")
    return number


def _detect_every(value):
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'takes a whole number or "auto", got {value!r}') from None


def add_parsers(commands):
    prd = commands.add_parser(
        "predict",
        help="find every face in photos and predict its emotion",
        description="Find every face in each photo and predict its emotion: one row per face (image, face, box, "
        "detector score, predicted emotion, per-emotion probabilities); a photo with no face gets one row that "
        "says so, classified whole. For images that are already face crops, use --detector none. A file that "
        "cannot be read is skipped, named on stderr, and the exit status is 1; 2: nothing was done (bad input, "
        "or an output that cannot be written); 141: the reader of the rows left early (| head).",
    )
    prd.add_argument("images", nargs="+", help="image files, or folders of them (their subfolders too)")
    prd.add_argument("--model", default=DEFAULT_MODEL, help=DEFAULT_HELP)
    add_detector_option(prd, "none: each whole image is one face, for face crops")
    prd.add_argument(
        "--detect-size",
        type=whole_number(48, "a whole number of pixels"),
        metavar="PIXELS",
        help="mtcnn searches a photo larger than this (its longer side, with a border) shrunk to it, and then "
        "misses faces smaller than about a hundredth of the photo's longer side; 2560 finds the faces half that "
        "size of a large group photo, in about twice the time (default: 1280)",
    )
    prd.add_argument("--csv", help="write the rows to this CSV file")
    prd.add_argument("--annotate", metavar="DIR", help="write each photo with boxes and labels as DIR/<name>.png")
    prd.add_argument(
        "--coverage",
        type=_fraction,
        metavar="LEVEL",
        help="add a prediction_set column: the emotions each face may be, a set that holds the true one this "
        "often on faces like the model's validation faces (0.9: nine in ten; split conformal prediction). The "
        "model must hold calibration scores (fersk.calibrate); the shipped models do",
    )
    prd.add_argument(
        "--abstain-precision",
        type=_fraction,
        metavar="LEVEL",
        help="add an unsure column: True for each face whose top probability is below the threshold at which "
        "the model's validation answers were right this often (0.9: nine in ten)",
    )
    prd.add_argument(
        "--out",
        metavar="DIR",
        help="write the rows partition by partition into DIR (Parquet, or CSV), resumable, instead of printing "
        "them; with --scheduler, on a Dask cluster",
    )
    add_batch_options(prd)
    prd.set_defaults(handler=predict)

    exp = commands.add_parser(
        "explain",
        help="a heatmap of where the model looks, over the largest face of an image",
        description="Explain one prediction: find the largest face of the image (as fersk predict finds faces), and "
        "write it and its attribution heatmap side by side as a PNG.",
    )
    exp.add_argument("image", help="an image file")
    exp.add_argument("--model", default=DEFAULT_MODEL, help=DEFAULT_HELP)
    exp.add_argument("--out", default="explanation.png", help="PNG to write (default: explanation.png)")
    exp.add_argument("--method", choices=METHODS, default="gradcam")
    exp.add_argument("--target", help="the class to explain (default: the predicted one)")
    add_detector_option(
        exp, "the largest face is explained, or the whole image when none is found; none: the whole image"
    )
    exp.set_defaults(handler=explain_command)

    vid = commands.add_parser(
        "video",
        help="track and classify the faces of a video: per-frame CSV, timeline PNG, annotated MP4",
        description="Find, track and classify every face of a video; write DIR/frames.csv (one row per face per "
        "analysed frame), DIR/timeline.png and, with --annotate, DIR/annotated.mp4.",
    )
    vid.add_argument(
        "video",
        nargs="+",
        help="a video file (MP4, MOV, MKV, AVI, WebM..., an animated GIF); not a camera. Several videos, or "
        "folders of them, with --scheduler: one task each, a table each in --out",
    )
    vid.add_argument("--model", default=DEFAULT_MODEL, help=DEFAULT_HELP)
    rate = vid.add_mutually_exclusive_group()
    rate.add_argument("--every", type=int, default=1, help="analyse every N-th frame (default: 1)")
    rate.add_argument("--fps", type=float, help="analyse about this many frames per second of video")
    vid.add_argument(
        "--detect-every",
        type=_detect_every,
        default="auto",
        help="detect faces on every N-th analysed frame and track them between (default: auto, about five "
        "detections per second of video; 1 detects on every frame)",
    )
    vid.add_argument("--out", default="fersk-video", help="output folder (default: fersk-video)")
    vid.add_argument("--annotate", action="store_true", help="also write annotated.mp4 with boxes and labels")
    vid.add_argument(
        "--coverage", type=_fraction, metavar="LEVEL", help="as for fersk predict: a prediction_set column"
    )
    vid.add_argument(
        "--abstain-precision", type=_fraction, metavar="LEVEL", help="as for fersk predict: an unsure column"
    )
    add_batch_options(vid, videos=True)
    vid.set_defaults(handler=video_command)
