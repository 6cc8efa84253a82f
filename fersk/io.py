"""Model files that are safe to share: :func:`save` and :func:`load`.

A fersk model file is a zip archive holding

- ``manifest.json``: the estimator's class, its parameters and fitted attributes as
  JSON, the training history, and a SHA-256 checksum of every other member;
- ``module.pt``: the network weights of a neural estimator, read back with torch's
  ``weights_only`` loader (tensors only, no code);
- ``pipeline.skops``: the HOG+SVM pipeline, read back with skops and an explicit
  list of trusted types.

Nothing in the file runs on load. A corrupted or modified file, or a pickle posing
as a fersk file, is refused with a ``ValueError``. Pickle and joblib keep working
for scikit-learn's own tools (``GridSearchCV``, ``joblib.dump``), but only files
from a trusted source may be unpickled: share models as fersk files.
"""

import contextlib
import importlib
import json
import warnings
from pathlib import Path

import numpy as np
import skops.io as sio
import torch
from skorch.history import History

from ._archive import MODULE, read_archive, tensors_from_bytes, tensors_to_bytes, write_archive
from ._pretrained import PRETRAINED, pretrained_path, shipped_name
from .classifiers import CNNClassifier, HOGSVMClassifier, NeuralImageClassifier, TransferClassifier
from .classifiers._neural import resolve_device
from .training._checkpoint import KIND as CHECKPOINT_KIND

PIPELINE = "pipeline.skops"
ESTIMATORS = {cls.__name__: cls for cls in (HOGSVMClassifier, CNNClassifier, TransferClassifier)}
# the types a HOG+SVM pipeline holds beyond what skops trusts by default
TRUSTED_SKOPS_TYPES = [
    "fersk.preprocessing._hog.HOGTransformer",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
]
# classes a parameter may name (a network, a loss, an optimizer); imported, never unpickled
TRUSTED_CLASS_PREFIXES = ("fersk.", "torch.nn.", "torch.optim.", "skorch.")
TRAINING_ONLY = {"callbacks", "checkpoint"}
# fitted attributes a model file keeps, each with how it is read back: listed once, for save and load
FITTED = {
    "classes_": np.asarray,
    "image_shape_": tuple,
    "class_weight_": lambda value: np.asarray(value, dtype=float),
    "n_features_in_": int,
}
NEURAL_FITTED = {
    "class_prior_": lambda value: np.asarray(value, dtype=float),
    "prior_shift_": float,
}
# what files written before an attribute existed predict with: unshifted
FITTED_DEFAULTS = {"prior_shift_": 0.0}
# the Pipelines fersk.save takes, and the steps before the classifier that it can store: steps
# that do not learn from the data, so their parameters (and fersk's own fitted shapes) are all
# there is to keep. Resamplers only act in fit; FaceCropper only checks shapes.
PIPELINES = ("sklearn.pipeline:Pipeline", "imblearn.pipeline:Pipeline")
STORABLE_STEP_PREFIXES = ("fersk.preprocessing.", "imblearn.over_sampling.", "imblearn.under_sampling.")


def save(estimator, path):
    """Save a fitted fersk estimator, or a Pipeline ending in one, to a file that runs no code when loaded.

    Parameters
    ----------
    estimator : HOGSVMClassifier, CNNClassifier, TransferClassifier or Pipeline
        A fitted estimator, or a fitted scikit-learn or imbalanced-learn ``Pipeline``
        whose last step is one and whose other steps learn nothing from the data:
        resamplers (``RandomOverSampler``, ``SMOTE``, ...) and ``FaceCropper``. Steps
        that learn (``StandardScaler``, ``PCA``) are refused: their fitted state is
        arrays of any kind, which the safe format does not store; ``joblib.dump`` them
        for trusted use.
    path : str or Path
        Where to write; ``.fersk`` is the conventional suffix. Written atomically.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, fersk
    >>> X, y = fersk.make_faces(70, image_size=24, random_state=0)
    >>> clf = fersk.HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X, y)
    >>> path = fersk.save(clf, tempfile.mkdtemp() + "/hog.fersk")
    >>> (fersk.load(path).predict(X) == clf.predict(X)).all()
    np.True_
    """
    if _qualified(type(estimator)) in PIPELINES:
        return _save_pipeline(estimator, path)
    manifest, members = _manifest(estimator)
    return write_archive(path, manifest, members)


def _manifest(estimator):
    """A fitted fersk estimator's manifest and archive members."""
    name = type(estimator).__name__
    if name not in ESTIMATORS or type(estimator) is not ESTIMATORS[name]:
        raise TypeError(f"fersk.save takes a {', '.join(ESTIMATORS)}; got {name}. Use joblib.dump for other objects")
    if "image_shape_" not in vars(estimator):
        raise ValueError(f"this {name} is not fitted yet; call fit before saving it")
    from . import __version__

    manifest = {
        "estimator": name,
        "fersk_version": __version__,
        "torch_version": torch.__version__,
        "params": _encode_params(estimator),
        "fitted": {name: _fitted_value(getattr(estimator, name)) for name in _fitted_attributes(estimator)},
    }
    if isinstance(estimator, NeuralImageClassifier):
        manifest["history"] = json.loads(json.dumps(estimator.history.to_list(), default=float))
        members = {MODULE: tensors_to_bytes({k: v.cpu() for k, v in estimator.module_.state_dict().items()})}
    else:
        members = {PIPELINE: sio.dumps(estimator.pipeline_)}
    return manifest, members


def _fitted_attributes(estimator):
    return {**FITTED, **NEURAL_FITTED} if isinstance(estimator, NeuralImageClassifier) else FITTED


def _fitted_value(value):
    return np.asarray(value).tolist() if isinstance(value, (np.ndarray, tuple)) else _encode(value)


def _qualified(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _save_pipeline(pipeline, path):
    *steps, (final_name, final) = pipeline.steps
    stored = []
    for name, step in steps:
        if step is None or step == "passthrough":
            stored.append({"name": name, "class": None})
            continue
        if not type(step).__module__.startswith(STORABLE_STEP_PREFIXES):
            raise ValueError(
                f"fersk.save cannot store the pipeline step {name!r} ({type(step).__name__}): a safe model file "
                "keeps steps that learn nothing from the data (resamplers, FaceCropper) before a fersk "
                "classifier. Fit that step's work into the classifier, or joblib.dump the pipeline for trusted use"
            )
        fitted = {}  # a resampler acts in fit only: a Pipeline passes it by when predicting
        if not hasattr(step, "fit_resample"):
            try:
                fitted = {k: _encode(v) for k, v in vars(step).items() if k.endswith("_") and not k.startswith("_")}
            except TypeError:
                raise ValueError(
                    f"the pipeline step {name!r} holds fitted arrays (fitted on a DataFrame?) that a safe "
                    "model file does not store; fit the pipeline on arrays, or joblib.dump it for trusted use"
                ) from None
        stored.append({"name": name, "class": _qualified(type(step)), "params": _encode_params(step), "fitted": fitted})
    manifest, members = _manifest(final)
    manifest["pipeline"] = {"class": _qualified(type(pipeline)), "steps": stored, "final": final_name}
    return write_archive(path, manifest, members)


def load(path, device=None):
    """Load an estimator saved with :func:`save`; nothing in the file is executed.

    Parameters
    ----------
    path : str or Path
        A fersk model file.
    device : str, optional
        For neural estimators: where to put the network (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ...). By default ``"auto"``: a CUDA GPU when there is one, else the CPU.

    Returns
    -------
    estimator
        Fitted, ready to ``predict``.

    Raises
    ------
    ValueError
        When the file is not a fersk model file (a pickle, for instance), its
        checksums do not match (corrupted or modified), it sets parameters this
        version of fersk does not have, or ``device`` is not available here
        (``"cuda"`` without a GPU).
    FileNotFoundError
        When there is no file at ``path``; for a model fersk ships, use
        :func:`load_pretrained`.
    """
    if shipped_name(path):
        raise FileNotFoundError(
            f"no file {str(path)!r}; to load the pretrained model, call fersk.load_pretrained({str(path)!r})"
        )
    manifest, members = read_archive(path)
    if manifest.get("kind") == CHECKPOINT_KIND:
        raise ValueError(
            f"{path} is a training checkpoint, not a model file: pass it as checkpoint= to the "
            "estimator and call fit to resume or restore it, then fersk.save the result"
        )
    cls = ESTIMATORS.get(manifest.get("estimator"))
    if cls is None:
        raise ValueError(f"{path} holds an unknown estimator {manifest.get('estimator')!r}")
    params = _decode_params(manifest["params"])
    _check_known_params(cls, params, manifest, path)
    estimator = cls(**params)
    fitted = {**FITTED_DEFAULTS, **manifest["fitted"]}
    for name, read in _fitted_attributes(estimator).items():
        if name in fitted:  # files from before class_prior_ existed lack it
            setattr(estimator, name, read(fitted[name]))
    if isinstance(estimator, NeuralImageClassifier):
        _restore_network(estimator, members[MODULE], manifest.get("history", []), device)
    else:
        untrusted = set(sio.get_untrusted_types(data=members[PIPELINE])) - set(TRUSTED_SKOPS_TYPES)
        if untrusted:
            raise ValueError(f"{path} holds types fersk does not trust: {sorted(untrusted)}")
        estimator.pipeline_ = sio.loads(members[PIPELINE], trusted=TRUSTED_SKOPS_TYPES)
    if "pipeline" in manifest:
        return _load_pipeline(manifest["pipeline"], estimator, path)
    return estimator


def _check_known_params(cls, params, manifest, path):
    """Refuse, naming them, parameters the estimator class of this fersk does not have (a file
    written by another version); a network's routed parameters (``module__*``) are skorch's."""
    known = cls().get_params(deep=False)
    routed = issubclass(cls, NeuralImageClassifier)
    unknown = sorted(key for key in params if key not in known and not (routed and "__" in key))
    if unknown:
        from . import __version__

        raise ValueError(
            f"{path} sets parameter(s) {unknown} that {cls.__name__} does not have in this fersk "
            f"({__version__}); the file was written by fersk {manifest.get('fersk_version', '(unknown)')}: "
            "load it with that version of fersk"
        )


def _trusted_class(qualified, prefixes, path):
    module, _, qualname = qualified.partition(":")
    if not module.startswith(prefixes):
        trusted = ", ".join(prefix.rstrip(".") for prefix in prefixes)
        raise ValueError(f"{path} names a class fersk does not trust, outside {trusted}: {qualified}")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _load_pipeline(stored, final, path):
    if stored["class"] not in PIPELINES:
        raise ValueError(f"{path} holds an unknown kind of pipeline {stored['class']!r}")
    steps = []
    for step in stored["steps"]:
        if step["class"] is None:
            steps.append((step["name"], "passthrough"))
            continue
        obj = _trusted_class(step["class"], STORABLE_STEP_PREFIXES, path)(**_decode_params(step["params"]))
        for name, value in step["fitted"].items():
            setattr(obj, name, _decode(value))
        steps.append((step["name"], obj))
    return _trusted_class(stored["class"], ("sklearn.pipeline", "imblearn.pipeline"), path)(
        [*steps, (stored["final"], final)]
    )


def load_pretrained(name="fer2013", device=None):
    """Load a pretrained model shipped with fersk; it works offline.

    Parameters
    ----------
    name : {"fer2013", "fer2013-muxspace"}, default="fer2013"
        ``"fer2013"``: a ``TransferClassifier("fernet")`` trained on FER2013's Training
        images, the reproduction of the published recipe. ``"fer2013-muxspace"``: that
        model and a photos expert (it, trained on with real photos, muxspace), mixed per
        image by a gate that recognises each one's kind of face (:func:`fersk.gate_experts`);
        the default of ``fersk predict``, it holds up on photos and on FER2013's faces
        alike. Both take 48x48 grayscale faces. Each model card (``<name>.md`` beside the file) gives the
        data, the recipe and the figures.
    device : str, optional
        As in :func:`load`.

    Returns
    -------
    estimator
        Fitted, ready to ``predict``.
    """
    path = pretrained_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"the pretrained model {name!r} is not in this installation ({path}); "
            f"it is {PRETRAINED[name]}: run that script to build it"
        )
    return load(path, device=device)


def _load_device(device):
    """The device to load a network on, checked now rather than at the first prediction."""
    device = resolve_device(device)
    try:
        kind = torch.device(device).type
    except RuntimeError as exc:
        raise ValueError(f"device={device!r} is not a device torch knows: {exc}") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for a CUDA GPU, and this PyTorch finds none (torch.cuda.is_available() "
            "is False: a CPU-only build of torch, or no GPU driver). Load with device='cpu', or leave device "
            "out to use a GPU where there is one"
        )
    return device


@contextlib.contextmanager
def _one_torch_thread():
    """torch on one thread while the block runs, then the caller's thread count back.

    Building and filling a network runs some of torch's operations in parallel, which starts
    its OpenMP thread pool; a process forked after that (gunicorn's ``--preload``, a
    ``multiprocessing`` pool with the fork start method) hangs at its first parallel
    operation. On one thread the pool is not started, so a model loaded before forking
    predicts in the children, on all their threads.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _restore_network(estimator, module_bytes, history, device):
    estimator.device = _load_device(device or estimator.device)
    saved_weights = getattr(estimator, "weights", None)
    if saved_weights is not None:
        estimator.weights = None  # the file holds the trained weights; don't fetch the starting ones
    with _one_torch_thread():
        estimator.initialize()
        estimator.module_.load_state_dict(tensors_from_bytes(module_bytes))
    if saved_weights is not None:
        estimator.weights = saved_weights
    estimator.module_.eval()
    estimator.history_ = History(history)


def _encode_params(estimator):
    defaults = type(estimator)().get_params(deep=False)
    params = {}
    for key, value in estimator.get_params(deep=False).items():
        if key in defaults and _same(value, defaults[key]):
            continue
        if key == "device" or key.startswith("_"):
            continue  # device is resolved at fit and load chooses again; "_" is skorch's bookkeeping
        try:
            params[key] = _encode(value)
        except TypeError:
            if key in TRAINING_ONLY:
                warnings.warn(
                    f"fersk.save leaves out {key}={value!r}: it is only used in training", UserWarning, stacklevel=3
                )
                continue
            raise ValueError(
                f"parameter {key}={value!r} cannot be stored in a safe model file; use a value "
                "of a built-in type or a fersk/torch class, or joblib.dump for trusted use"
            ) from None
    return params


def _same(a, b):
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError, RuntimeError):
        return False


def _encode(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, type) and value.__module__.startswith(TRUSTED_CLASS_PREFIXES):
        return {"__class__": f"{value.__module__}:{value.__qualname__}"}
    raise TypeError(type(value).__name__)


def _decode_params(params):
    return {key: _decode(value) for key, value in params.items()}


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    if "__class__" in value:
        obj = _trusted_class(value["__class__"], TRUSTED_CLASS_PREFIXES, "the model file")
        if not isinstance(obj, type):
            raise ValueError(f"the model file names {value['__class__']}, which is not a class")
        return obj
    raise ValueError(f"unexpected value in the model file: {value!r}")
