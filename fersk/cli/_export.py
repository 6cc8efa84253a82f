"""``fersk export``: a trained model as an ONNX file, for onnxruntime and other runtimes."""

import numpy as np

from .._export import INPUT_DTYPES, export_onnx, exportable
from ..datasets import load_dataset, train_test_parts
from ._common import MODEL_HELP, load_model, whole_number


def export_command(args):
    """The model as an ONNX file: pixel rows in, class probabilities out, TTA and preprocessing inside."""
    if bool(args.quantize) != bool(args.calibration) or (args.calibration_size and not args.quantize):
        raise ValueError(
            "--quantize int8 needs --calibration DATA (a dataset of faces like those the model predicts on, from "
            "which training images calibrate it), and --calibration and --calibration-size are only used with it"
        )
    model = load_model(args.model)
    exportable(model)  # a model that cannot be exported is said before a calibration dataset loads
    if args.tta != "model":
        model.set_params(tta=None if args.tta == "none" else args.tta)
    h, w, c = model.image_shape_
    size = args.calibration_size or 512
    calibration = args.calibration and calibration_images(args.calibration, (h, w, c), size)
    path = export_onnx(model, args.out, input_dtype=args.input_dtype, quantize=args.quantize, calibration=calibration)
    print(
        f"{path}: input 'images' (n, {h * w * c}), {args.input_dtype} pixels 0-255 of {h}x{w}x{c} images; "
        f"output 'probabilities' (n, {len(model.classes_)}): {', '.join(map(str, model.classes_))}; tta {model.tta}"
        + (f"; int8, calibrated on {len(calibration)} images of {args.calibration}" if args.quantize else "")
    )
    return 0


def calibration_images(path, image_shape, n):
    """Up to ``n`` images drawn at random (seed 0) from the training part of a dataset, at ``image_shape``."""
    h, w, c = image_shape
    data = load_dataset(path, image_size=(h, w), grayscale=c == 1)
    X, *_ = train_test_parts(data, random_state=0)
    return X[np.random.default_rng(0).permutation(len(X))[:n]]


def add_parsers(commands):
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
    onx.add_argument(
        "--quantize",
        choices=("int8",),
        help="write the network in 8-bit integers, calibrated on --calibration (default: float32)",
    )
    onx.add_argument(
        "--calibration",
        metavar="DATA",
        help="with --quantize: a dataset fersk reads (FER2013, an image folder) of faces like the model's; "
        "images drawn at random from its training part calibrate the quantisation",
    )
    onx.add_argument(
        "--calibration-size",
        type=whole_number(1),
        metavar="N",
        help="with --quantize: calibration images (default: 512)",
    )
    onx.set_defaults(handler=export_command)
