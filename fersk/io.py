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


def save(estimator, path):
    """Save a fitted fersk estimator to a file that runs no code when loaded.

    Parameters
    ----------
    estimator : HOGSVMClassifier, CNNClassifier or TransferClassifier
        A fitted estimator.
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
        "fitted": {
            "classes_": estimator.classes_.tolist(),
            "image_shape_": list(estimator.image_shape_),
            "class_weight_": np.asarray(estimator.class_weight_).tolist(),
            "n_features_in_": int(estimator.n_features_in_),
        },
    }
    if isinstance(estimator, NeuralImageClassifier):
        manifest["fitted"]["class_prior_"] = estimator.class_prior_.tolist()
        manifest["fitted"]["prior_shift_"] = estimator.prior_shift_
        manifest["history"] = json.loads(json.dumps(estimator.history.to_list(), default=float))
        members = {MODULE: tensors_to_bytes({k: v.cpu() for k, v in estimator.module_.state_dict().items()})}
    else:
        members = {PIPELINE: sio.dumps(estimator.pipeline_)}
    return write_archive(path, manifest, members)


def load(path, device=None):
    """Load an estimator saved with :func:`save`; nothing in the file is executed.

    Parameters
    ----------
    path : str or Path
        A fersk model file.
    device : str, optional
        For neural estimators: where to put the network. By default the device it was
        saved with when available, else the CPU.

    Returns
    -------
    estimator
        Fitted, ready to ``predict``.

    Raises
    ------
    ValueError
        When the file is not a fersk model file (a pickle, for instance) or its
        checksums do not match (corrupted or modified).
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
    estimator = cls(**params)
    fitted = manifest["fitted"]
    estimator.classes_ = np.asarray(fitted["classes_"])
    estimator.image_shape_ = tuple(fitted["image_shape_"])
    estimator.class_weight_ = np.asarray(fitted["class_weight_"], dtype=float)
    estimator.n_features_in_ = fitted["n_features_in_"]
    if isinstance(estimator, NeuralImageClassifier):
        # files written before fersk had prior shifts predict as they did: unshifted
        estimator.prior_shift_ = fitted.get("prior_shift_", 0.0)
        if "class_prior_" in fitted:
            estimator.class_prior_ = np.asarray(fitted["class_prior_"], dtype=float)
        _restore_network(estimator, members[MODULE], manifest.get("history", []), device)
    else:
        untrusted = set(sio.get_untrusted_types(data=members[PIPELINE])) - set(TRUSTED_SKOPS_TYPES)
        if untrusted:
            raise ValueError(f"{path} holds types fersk does not trust: {sorted(untrusted)}")
        estimator.pipeline_ = sio.loads(members[PIPELINE], trusted=TRUSTED_SKOPS_TYPES)
    return estimator


def load_pretrained(name="fer2013", device=None):
    """Load a pretrained model shipped with fersk; it works offline.

    Parameters
    ----------
    name : str, default="fer2013"
        ``"fer2013"``: a ``TransferClassifier("fernet")`` trained on FER2013's Training
        images, for 48x48 grayscale faces. Its model card, ``fer2013.md`` beside the
        file, gives the data, the recipe and the figures.
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


def _restore_network(estimator, module_bytes, history, device):
    wanted = device or estimator.device
    estimator.device = resolve_device(wanted if wanted != "cuda" or torch.cuda.is_available() else "cpu")
    saved_weights = getattr(estimator, "weights", None)
    if saved_weights is not None:
        estimator.weights = None  # the file holds the trained weights; don't fetch the starting ones
    estimator.initialize()
    if saved_weights is not None:
        estimator.weights = saved_weights
    estimator.module_.load_state_dict(tensors_from_bytes(module_bytes))
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
        module, _, qualname = value["__class__"].partition(":")
        if not module.startswith(TRUSTED_CLASS_PREFIXES):
            raise ValueError(f"the model file names a class outside fersk and torch: {value['__class__']}")
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        if not isinstance(obj, type):
            raise ValueError(f"the model file names {value['__class__']}, which is not a class")
        return obj
    raise ValueError(f"unexpected value in the model file: {value!r}")
