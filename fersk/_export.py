"""ONNX export of a fitted neural estimator: everything ``predict_proba`` does, in one graph.

The graph takes what the estimator takes, rows of pixel values 0-255, and gives what
``predict_proba`` gives, so that a deployment runs it without Python, fersk or PyTorch:
``onnxruntime`` in a service, ONNX Runtime Web in a browser, or any other ONNX runtime.
"""

import copy
import json
import logging
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._atomic import write_atomically
from .classifiers import HOGSVMClassifier, NeuralImageClassifier
from .training import tta_views

# what fersk.classifiers.calibrate adds to a probability before its log, as predict_proba does
TEMPER_EPS = float(np.finfo(np.float64).eps)

INPUT_DTYPES = {"float32": torch.float32, "uint8": torch.uint8}
QUANTIZE = (None, "int8")
OPSET = 17  # ONNX Runtime 1.14 (2023) and later run it; the exporter's own default moves with torch


class InferenceGraph(nn.Module):
    """The prediction path of a fitted neural estimator as one module: pixels in, probabilities out.

    It does, in order, what ``predict_proba`` does: reshape rows of pixel values 0-255 to
    (n, c, h, w) scaled to [0, 1], the ``tta`` views, the network (with its own channel
    repeat, resizing and normalisation) and a softmax per view, the mean over the views,
    and the prior shift, renormalised.

    Parameters
    ----------
    module : torch.nn.Module
        The network; it takes (n, c, h, w) images in [0, 1].
    image_shape : (h, w, c)
    tta : {None, "flip", "crops"}
    class_weights : array-like of shape (n_classes,), optional
        What each class's probability is multiplied by before renormalising:
        ``class_prior_ ** -prior_shift_``. None leaves the probabilities as they are.
    temperature : float, default=1.0
        The temperature :func:`fersk.classifiers.calibrate` fitted (``temperature_``), applied
        last, as ``predict_proba`` applies it: ``softmax(log(p) / temperature)``.
    """

    def __init__(self, module, image_shape, tta=None, class_weights=None, temperature=1.0):
        super().__init__()
        self.module = module
        self.image_shape = tuple(int(d) for d in image_shape)
        self.tta = tta
        weights = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        self.register_buffer("class_weights", weights)
        self.temperature = float(temperature)

    def forward(self, images):
        h, w, c = self.image_shape
        x = images.to(torch.float32).reshape(-1, h, w, c).permute(0, 3, 1, 2) / 255.0
        views = tta_views(x, self.tta)
        proba = sum(torch.softmax(self.module(v), dim=1) for v in views) / len(views)
        if self.class_weights is not None:
            proba = proba * self.class_weights
            proba = proba / proba.sum(dim=1, keepdim=True)
        if self.temperature != 1.0:
            proba = torch.softmax(torch.log(proba + TEMPER_EPS) / self.temperature, dim=1)
        return proba


def exportable(estimator):
    """The neural estimator that ``estimator`` predicts with, or a ValueError saying why there is none."""
    steps = getattr(estimator, "steps", None)
    if steps is not None:  # a scikit-learn or imbalanced-learn Pipeline
        # resamplers only act in fit; at prediction a Pipeline passes the images on untouched
        acting = [
            name
            for name, step in steps[:-1]
            if step is not None and step != "passthrough" and not hasattr(step, "fit_resample")
        ]
        if acting:
            raise ValueError(
                f"export_onnx cannot export this Pipeline: its step(s) {acting} transform the images in "
                "Python before the network sees them, and only the network's own preprocessing is folded "
                "into the ONNX graph. Export the final estimator (pipeline[-1]) and apply those steps "
                "before feeding the ONNX model, or fit the network on the images those steps give"
            )
        estimator = steps[-1][1]
    if isinstance(estimator, HOGSVMClassifier):
        raise ValueError(
            "HOGSVMClassifier cannot be exported to ONNX: its HOG features are computed by scikit-image "
            "in Python, and ONNX has no HOG operator. Export a CNNClassifier or TransferClassifier, or "
            "deploy the HOG+SVM model with fersk.save and fersk.load"
        )
    if not isinstance(estimator, NeuralImageClassifier):
        raise ValueError(
            f"export_onnx exports fersk's neural estimators (CNNClassifier, TransferClassifier); "
            f"got {type(estimator).__name__}"
        )
    check_is_fitted(estimator, "module_")
    return estimator


def inference_graph(estimator):
    """The prediction path of a fitted neural estimator as one module on the CPU, in eval mode.

    The network is a copy: the estimator is left as it was.

    Parameters
    ----------
    estimator : CNNClassifier or TransferClassifier
        Fitted. A Pipeline whose other steps are resamplers stands for its final step.

    Returns
    -------
    InferenceGraph
        Called on a tensor of rows of pixel values 0-255, it returns what
        ``estimator.predict_proba`` returns, in float32.

    Examples
    --------
    >>> import torch
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(70, image_size=32, random_state=0)
    >>> clf = CNNClassifier(max_epochs=1, module__channels=(8, 16), tta="flip", random_state=0).fit(X, y)
    >>> graph = inference_graph(clf)
    >>> proba = graph(torch.as_tensor(X[:5])).detach().numpy()
    >>> bool(abs(proba - clf.predict_proba(X[:5])).max() < 1e-5)
    True
    """
    estimator = exportable(estimator)
    module = copy.deepcopy(estimator.module_).cpu().eval()
    shift = float(getattr(estimator, "prior_shift_", 0.0))
    weights = np.asarray(estimator.class_prior_, dtype=float) ** -shift if shift else None
    temperature = float(vars(estimator).get("temperature_", 1.0))
    return InferenceGraph(module, estimator.image_shape_, estimator.tta, weights, temperature).eval()


def export_onnx(estimator, path, *, input_dtype="float32", quantize=None, calibration=None):
    """Write a fitted neural estimator as an ONNX model: pixel rows in, class probabilities out.

    The graph does everything ``predict_proba`` does (see :class:`InferenceGraph`): the
    scaling of the pixels, the network's channel repeat, resizing and normalisation, the
    test-time augmentation views (``tta``) and the prior shift (``prior_shift_``). Its
    input, ``images``, is what the estimator takes: a 2-D array (n, h * w * c) of pixel
    values 0-255, one flattened image per row, any number of rows. Its output,
    ``probabilities``, is (n, n_classes), columns in the order of ``classes_``; it equals
    ``predict_proba`` to about 1e-6.

    With ``quantize="int8"`` the convolutions and linear layers compute in 8-bit integers
    (onnxruntime's static quantisation: weights per output channel, activations per tensor,
    their ranges measured on the ``calibration`` images). For the shipped FER2013 model on
    2 CPU cores that is 1.7 to 1.9 times the float graph's speed in a file a quarter of its
    size, for at most 0.3 points of accuracy on FER2013 (``benchmarks/bench_int8.py``). The
    weights use 7 of their 8 bits, so that CPUs without VNNI instructions (AVX2) cannot
    overflow their 16-bit sums; the probabilities then differ from ``predict_proba`` by a
    few hundredths, and a face near a tie between two classes can change its label (0.8% of
    FER2013's test faces).

    The file's ``metadata_props`` say how to use it: ``classes`` (a JSON list, the
    columns' labels), ``image_shape`` (JSON ``[h, w, c]``), ``input_dtype``, ``tta``
    (``"none"``, ``"flip"`` or ``"crops"``), ``prior_shift``, ``quantize`` (``"none"`` or
    ``"int8"``), ``estimator`` and ``fersk_version``. onnxruntime reads them with
    ``session.get_modelmeta().custom_metadata_map``. The file appears whole or not at all:
    it is written beside ``path`` and renamed.

    Needs the ``onnx`` package, and onnxruntime to quantise (``pip install "fersk[onnx]"``
    brings both). The export uses PyTorch's TorchScript-based exporter (``dynamo=False``),
    which needs nothing more and writes one self-contained file.

    Parameters
    ----------
    estimator : CNNClassifier or TransferClassifier
        Fitted. A Pipeline whose steps before the network are resamplers (which act only
        in ``fit``) exports its network. HOGSVMClassifier, and Pipelines with steps that
        transform the images, cannot be exported: ValueError says why.
    path : str or Path
        The ONNX file to write (``.onnx``).
    input_dtype : {"float32", "uint8"}, default="float32"
        Element type of the graph's input. Image decoders give uint8, which is 4 times
        less data to pass; float32 takes any pixel values 0-255.
    quantize : {None, "int8"}, default=None
        None keeps the network in float32, as it predicts in PyTorch; ``"int8"`` quantises
        it, calibrated on ``calibration``.
    calibration : array-like of images, optional
        Required with ``quantize="int8"``, and only then: images as the estimator takes
        them (pixel rows, or (n, h, w[, c]) arrays), typical of those it will see. A few
        hundred of its training images are enough; test images would leak into any test
        figure measured on the quantised model.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        When the estimator cannot be exported, and why; when ``quantize`` and
        ``calibration`` do not go together.

    Examples
    --------
    >>> import tempfile
    >>> import onnxruntime as ort
    >>> from fersk import CNNClassifier, export_onnx, make_faces
    >>> X, y = make_faces(70, image_size=32, random_state=0)
    >>> clf = CNNClassifier(max_epochs=1, module__channels=(8, 16), random_state=0).fit(X, y)
    >>> path = export_onnx(clf, tempfile.mkdtemp() + "/faces.onnx")
    >>> session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> proba = session.run(None, {"images": X[:5]})[0]  # float32 pixels, as make_faces gives them
    >>> bool(abs(proba - clf.predict_proba(X[:5])).max() < 1e-4)
    True
    >>> session.get_modelmeta().custom_metadata_map["image_shape"]
    '[32, 32, 1]'

    The same network in 8-bit integers, calibrated on its training images:

    >>> path = export_onnx(clf, tempfile.mkdtemp() + "/faces-int8.onnx", quantize="int8", calibration=X)
    >>> session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> proba = session.run(None, {"images": X})[0]
    >>> bool(abs(proba - clf.predict_proba(X)).max() < 0.1)
    True
    """
    if input_dtype not in INPUT_DTYPES:
        raise ValueError(f"input_dtype must be one of {sorted(INPUT_DTYPES)}, got {input_dtype!r}")
    if quantize not in QUANTIZE:
        raise ValueError(f"quantize must be one of {QUANTIZE}, got {quantize!r}")
    if quantize and calibration is None:
        raise ValueError(
            "quantize='int8' needs calibration: a few hundred images as the estimator takes them (from its "
            "training data), to measure the range of each layer's values"
        )
    if calibration is not None and not quantize:
        raise ValueError("calibration is only used with quantize='int8'; pass quantize='int8', or no calibration")
    try:
        import onnx
    except ImportError:
        raise ImportError('export_onnx needs the onnx package: pip install "fersk[onnx]"') from None
    estimator = exportable(estimator)
    if quantize:
        calibration = _calibration_rows(estimator, calibration, input_dtype)
    graph = inference_graph(estimator)
    h, w, c = graph.image_shape
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # as fersk.save does; the exporter would fail here
    with tempfile.TemporaryDirectory() as scratch:
        exported = Path(scratch) / "float32.onnx"
        _export_graph(graph, estimator, exported, input_dtype)
        if quantize:
            exported = _quantize_int8(exported, Path(scratch), calibration)
        model = onnx.load(str(exported))
    from . import __version__

    metadata = {
        "classes": json.dumps(np.asarray(estimator.classes_).tolist()),
        "image_shape": json.dumps([h, w, c]),
        "input_dtype": input_dtype,
        "tta": str(estimator.tta).lower(),  # "none", "flip" or "crops"
        "prior_shift": str(float(getattr(estimator, "prior_shift_", 0.0))),
        "temperature": str(float(vars(estimator).get("temperature_", 1.0))),
        "quantize": str(quantize).lower(),  # "none" or "int8"
        "estimator": type(estimator).__name__,
        "fersk_version": __version__,
    }
    onnx.helper.set_model_props(model, metadata)
    model.producer_name, model.producer_version = "fersk", __version__
    model.doc_string = (
        f"{type(estimator).__name__} exported by fersk{' in int8' if quantize else ''}: input 'images', "
        f"{input_dtype} rows of {h}x{w}x{c} pixel values 0-255 (one flattened image per row); output "
        "'probabilities', one column per class in metadata 'classes'"
    )
    onnx.checker.check_model(model)
    return write_atomically(path, lambda f: f.write(model.SerializeToString()))  # a failure leaves an old file whole


def _export_graph(graph, estimator, path, input_dtype):
    """Run PyTorch's exporter on ``graph``; a network it cannot export is a ValueError."""
    h, w, c = graph.image_shape
    example = torch.zeros(2, h * w * c, dtype=INPUT_DTYPES[input_dtype])
    try:
        with warnings.catch_warnings():
            # the exporter warns that shapes are constants in the graph (they are: one image shape
            # per model) and that its TorchScript path is deprecated in favour of torch.export,
            # which needs onnxscript and takes ten times longer here for the same graph
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export")
            torch.onnx.export(
                graph,
                (example,),
                str(path),
                dynamo=False,
                input_names=["images"],
                output_names=["probabilities"],
                dynamic_axes={"images": {0: "n"}, "probabilities": {0: "n"}},
                opset_version=OPSET,
            )
    except Exception as exc:  # noqa: BLE001 - the exporter reports an unsupported network in many ways
        raise ValueError(
            f"the network of this {type(estimator).__name__} ({type(estimator.module_).__name__}) could not be "
            f"exported to ONNX: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc


def _calibration_rows(estimator, calibration, input_dtype):
    """The calibration images as the graph's input: checked against the estimator's image shape."""
    try:
        rows = estimator._validate_predict(calibration)
    except ValueError as exc:
        raise ValueError(f"calibration: {exc}") from exc
    low, high = float(rows.min()), float(rows.max())
    if low < 0 or high <= 1 or high > 255:
        raise ValueError(
            f"calibration holds values from {low:.3g} to {high:.3g}; it takes images as the estimator does, "
            "pixel values 0-255 (multiply images scaled to 0-1 by 255; leave out standardisation)"
        )
    if input_dtype == "uint8":
        return np.clip(np.rint(rows), 0, 255).astype(np.uint8)
    return rows.astype(np.float32, copy=False)


class _Batches:
    """onnxruntime's calibration reader: the calibration rows as feeds of 64 images."""

    def __init__(self, rows, batch_size=64):
        self._feeds = iter([{"images": rows[i : i + batch_size]} for i in range(0, len(rows), batch_size)])

    def get_next(self):
        return next(self._feeds, None)


def _quantize_int8(source, scratch, rows):
    """Quantise the float graph at ``source`` to int8, calibrated on ``rows``; returns the new file."""
    try:
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError:
        raise ImportError('quantize="int8" needs onnxruntime: pip install "fersk[onnx]"') from None
    prepared, quantized = scratch / "prepared.onnx", scratch / "int8.onnx"
    root = logging.getLogger()
    # onnxruntime's quantiser logs its notes to the root logger, for instance that a BatchNorm's 1-D
    # scale has no channel axis to quantise along (it is left per tensor, as it should be)
    root.addFilter(_quantizer_notes)
    try:
        quant_pre_process(str(source), str(prepared))  # shapes inferred and the graph simplified, as ORT advises
        quantize_static(
            str(prepared),
            str(quantized),
            _Batches(rows),
            quant_format=QuantFormat.QDQ,  # onnxruntime fuses each quantise-op-dequantise into one int8 kernel
            per_channel=True,
            reduce_range=True,  # 7-bit weights: AVX2's 16-bit multiply-adds cannot saturate
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
    finally:
        root.removeFilter(_quantizer_notes)
    return quantized


def _quantizer_notes(record):
    """False for onnxruntime's quantiser's own log records below ERROR: the filter that hides them."""
    return record.levelno >= logging.ERROR or "onnxruntime" not in record.pathname
