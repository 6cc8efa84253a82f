"""Model files that are safe to share: :func:`save` and :func:`load`.

A fersk model file is a zip archive holding

- ``manifest.json``: the estimator's class, its parameters and fitted attributes as
  JSON, the training history, and a SHA-256 checksum of every other member;
- ``module.pt``: the network weights of a neural estimator, read back with torch's
  ``weights_only`` loader (tensors only, no code);
- ``pipeline.skops``: the HOG+SVM pipeline, read back with skops and an explicit
  list of trusted types.

What the format protects against:

- Damage. A corrupted or truncated file fails its checksums or its zip structure and is
  refused with a ``ValueError``. The checksums are not a signature: whoever edits a file can
  recompute them, so they tell nothing of who wrote it.
- Code in the file. Nothing a file names is imported or called unless it is on fersk's
  allow-list (``allowed_classes()``): the classes a file may name, each for its place (a
  network for ``module``, a loss for ``criterion``, an optimizer for ``optimizer``, fersk's
  callbacks, the two Pipelines and the steps they may hold). A name is looked up in that
  table, never imported; any other name, or a class in another place, is refused with a
  ``ValueError`` before anything is built. Nothing is ever unpickled: a pickle posing as a
  fersk file is refused.

What it does not protect against: a valid file whose weights were trained to mislead, or
whose parameters are valid but unsuitable (a ``checkpoint`` path that a later ``fit``
writes to, a ``batch_size`` too large for your memory). Loading a file runs no code from it;
trusting its predictions is trusting whoever trained it. Pickle and joblib keep working for
scikit-learn's own tools (``GridSearchCV``, ``joblib.dump``), but only files from a trusted
source may be unpickled: share models as fersk files.
"""

import contextlib
import functools
import json
import warnings
from pathlib import Path
from types import MappingProxyType

import numpy as np
import skops.io as sio
import torch
from skorch.history import History
from torch import nn

from ._archive import MODULE, read_archive, tensors_from_bytes, tensors_to_bytes, write_archive
from ._pretrained import PRETRAINED, pretrained_path, shipped_name
from .backbones import FERNet, GatedExperts
from .classifiers import CNNClassifier, HOGSVMClassifier, NeuralImageClassifier, TransferClassifier
from .classifiers._neural import resolve_device
from .preprocessing import FaceCropper, HOGTransformer
from .training import FocalLoss, TimeBudget, TwoPhaseFineTuning, WeightAveraging
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
# the parameters of a fersk estimator that may name a class (skorch builds them): each names one
# of the classes allowed_classes() lists under its name
CLASS_PARAMS = ("module", "criterion", "optimizer", "callbacks")
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


@functools.cache
def allowed_classes():
    """Every class a model file may name, by the name it is stored under, for each place.

    The allow-list of :func:`load` and :func:`save`, read-only: ``{place: {"module:qualname": class}}``.
    The places are ``"pipeline"`` (scikit-learn's and imbalanced-learn's ``Pipeline``),
    ``"step"`` (the steps before the classifier that a file stores: fersk's ``FaceCropper``
    and ``HOGTransformer``, imbalanced-learn's over- and under-samplers), and the parameters
    of :data:`CLASS_PARAMS`: ``"module"`` (fersk's networks), ``"criterion"`` (fersk's
    ``FocalLoss`` and torch's losses), ``"optimizer"`` (torch's optimizers) and
    ``"callbacks"`` (fersk's callbacks). A name a file gives is looked up here and nowhere
    else: nothing it names is imported, and a name missing from its place is refused. Built
    from fersk's own classes and from the public classes of the modules named here that
    derive from each family's base class; the file plays no part in it.
    """
    from imblearn import over_sampling, under_sampling
    from imblearn.base import BaseSampler
    from imblearn.pipeline import Pipeline as ImbalancedPipeline
    from sklearn.pipeline import Pipeline

    samplers = [*_public_subclasses(over_sampling, BaseSampler), *_public_subclasses(under_sampling, BaseSampler)]
    places = {
        "pipeline": [Pipeline, ImbalancedPipeline],
        "step": [FaceCropper, HOGTransformer, *samplers],
        "module": [FERNet, GatedExperts],
        "criterion": [FocalLoss, *_public_subclasses(nn, nn.modules.loss._Loss)],
        "optimizer": _public_subclasses(torch.optim, torch.optim.Optimizer),
        "callbacks": [TimeBudget, TwoPhaseFineTuning, WeightAveraging],
    }
    return MappingProxyType({place: MappingProxyType({_qualified(c): c for c in cs}) for place, cs in places.items()})


def _public_subclasses(module, base):
    """The public classes of ``module`` (a module of fersk's choosing) that derive from ``base``."""
    return [
        obj
        for name, obj in vars(module).items()
        if not name.startswith("_") and isinstance(obj, type) and issubclass(obj, base) and obj is not base
    ]


def _qualified(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _listed(cls, place):
    """The name ``cls`` is stored under, where ``place`` of the allow-list holds it; else None."""
    name = _qualified(cls)
    return name if allowed_classes()[place].get(name) is cls else None


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

    Raises
    ------
    ValueError
        When a parameter cannot be stored: a value of a type the format does not hold (an
        object), or a class that ``fersk.io.allowed_classes()`` does not list for that
        parameter, since :func:`load` would refuse it.

    Examples
    --------
    >>> import tempfile, fersk
    >>> X, y = fersk.make_faces(70, image_size=24, random_state=0)
    >>> clf = fersk.HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X, y)
    >>> path = fersk.save(clf, tempfile.mkdtemp() + "/hog.fersk")
    >>> (fersk.load(path).predict(X) == clf.predict(X)).all()
    np.True_
    """
    if _listed(type(estimator), "pipeline"):
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
        "params": _encode_params(estimator, CLASS_PARAMS),
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


def _save_pipeline(pipeline, path):
    *steps, (final_name, final) = pipeline.steps
    stored = []
    for name, step in steps:
        if step is None or step == "passthrough":
            stored.append({"name": name, "class": None})
            continue
        if not _listed(type(step), "step"):
            raise ValueError(
                f"fersk.save cannot store the pipeline step {name!r} ({type(step).__name__}): a safe model file "
                "keeps steps that learn nothing from the data (resamplers, FaceCropper) before a fersk "
                "classifier. Fit that step's work into the classifier, or joblib.dump the pipeline for trusted use"
            )
        fitted = {}  # a resampler acts in fit only: a Pipeline passes it by when predicting
        if not hasattr(step, "fit_resample"):
            try:
                fitted = {k: _encode(v) for k, v in vars(step).items() if _is_fitted_name(k)}
            except TypeError as exc:
                raise ValueError(
                    f"the pipeline step {name!r} holds fitted values ({exc}; fitted on a DataFrame?) that a safe "
                    "model file does not store; fit the pipeline on arrays, or joblib.dump it for trusted use"
                ) from None
        params = _encode_params(step, ())
        stored.append({"name": name, "class": _qualified(type(step)), "params": params, "fitted": fitted})
    manifest, members = _manifest(final)
    manifest["pipeline"] = {"class": _qualified(type(pipeline)), "steps": stored, "final": final_name}
    return write_archive(path, manifest, members)


def _is_fitted_name(name):
    return name.endswith("_") and not name.startswith("_")


def load(path, device=None):
    """Load an estimator saved with :func:`save`; nothing in the file is executed.

    Every class the file names is looked up in ``fersk.io.allowed_classes()`` before anything
    is built; nothing the file names is imported.

    Parameters
    ----------
    path : str or Path
        A fersk model file.
    device : str, optional
        For neural estimators: where to put the network (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ...), set as the estimator's ``device``. By default the estimator
        keeps the file's ``device``, ``"auto"``: a CUDA GPU when there is one, else the CPU.

    Returns
    -------
    estimator
        Fitted, ready to ``predict``.

    Raises
    ------
    ValueError
        When the file is not a fersk model file (a pickle, for instance), its
        checksums do not match (corrupted or modified), it names a class that
        ``fersk.io.allowed_classes()`` does not list for its place, it sets parameters this
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
    cls = ESTIMATORS.get(manifest.get("estimator")) if isinstance(manifest.get("estimator"), str) else None
    if cls is None:
        raise ValueError(f"{path} holds an unknown estimator {manifest.get('estimator')!r}")
    # every name the file gives is resolved (or refused) here, before anything is built
    params = _decode_params(manifest.get("params"), CLASS_PARAMS, cls.__name__, path)
    fitted = {**FITTED_DEFAULTS, **_decode_params(manifest.get("fitted"), (), cls.__name__, path)}
    pipeline = _read_pipeline(manifest["pipeline"], path) if "pipeline" in manifest else None
    _check_known_params(cls, params, manifest, path)
    estimator = cls(**params)
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
    if pipeline is None:
        return estimator
    pipeline_cls, steps, final_name = pipeline
    built = []
    for name, step_cls, step_params, step_fitted in steps:
        step = "passthrough" if step_cls is None else step_cls(**step_params)
        for attribute, value in step_fitted.items():
            setattr(step, attribute, value)
        built.append((name, step))
    return pipeline_cls([*built, (final_name, estimator)])


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


def _read_pipeline(stored, path):
    """A stored pipeline's class, its steps' classes, parameters and fitted values, and the final step's
    name, every class looked up in the allow-list; nothing is built."""
    if not isinstance(stored, dict) or not isinstance(stored.get("steps"), list):
        raise ValueError(f"{path} holds a pipeline fersk cannot read: {stored!r}")
    pipeline_cls = _allowed_class(stored.get("class"), "pipeline", "its pipeline", path)
    steps = []
    for step in stored["steps"]:
        if not isinstance(step, dict):
            raise ValueError(f"{path} holds a pipeline step fersk cannot read: {step!r}")
        name = step.get("name")
        if step.get("class") is None:
            steps.append((name, None, {}, {}))
            continue
        where = f"the pipeline step {name!r}"
        step_cls = _allowed_class(step["class"], "step", where, path)
        params = _decode_params(step.get("params", {}), (), where, path)
        known = step_cls().get_params(deep=False)
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"{path} sets parameter(s) {unknown} that {where} ({step_cls.__name__}) does not have")
        fitted = _decode_params(step.get("fitted", {}), (), where, path)
        odd = sorted(key for key in fitted if not _is_fitted_name(key))
        if odd:
            raise ValueError(f"{path} sets {odd} on {where}, which are not fitted attributes (name_)")
        steps.append((name, step_cls, params, fitted))
    return pipeline_cls, steps, stored.get("final")


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


@functools.cache
def _openmp():
    """threadpoolctl's handle on the OpenMP runtimes this process has loaded, torch's among them."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="openmp")


@contextlib.contextmanager
def _one_openmp_thread():
    """The calling thread's torch operations on one thread while the block runs; nothing else changes.

    Building and filling a network runs some of torch's operations in parallel, which starts
    the calling thread's OpenMP thread pool; a process forked after that (gunicorn's
    ``--preload``, a ``multiprocessing`` pool with the fork start method) hangs at its first
    parallel operation (GNU OpenMP, torch's on Linux). On one thread the pool is not started,
    so a model loaded before forking predicts in the children, on all their threads
    (``tests/test_io_forged.py`` forks after a load).

    The setting changed is OpenMP's for the calling thread alone (``omp_set_num_threads``,
    through threadpoolctl), put back by the same thread: torch's process-wide count
    (``torch.set_num_threads``) is never touched, so threads loading at once cannot leave
    each other, or threads started later, on one thread. torch sets a thread's OpenMP count
    itself at its first call in that thread, hence ``torch.get_num_threads()`` first.
    """
    torch.get_num_threads()
    with _openmp().limit(limits=1):
        yield


def _restore_network(estimator, module_bytes, history, device):
    # a device that is not here is refused now, not at the first prediction; the parameter keeps what was
    # given (by the caller, else by the file: "auto"), and the estimator chooses from it as after fit
    _load_device(device or estimator.device)
    if device is not None:
        estimator.device = device
    saved_weights = getattr(estimator, "weights", None)
    if saved_weights is not None:
        estimator.weights = None  # the file holds the trained weights; don't fetch the starting ones
    with _one_openmp_thread():
        estimator.initialize()
        estimator.module_.load_state_dict(tensors_from_bytes(module_bytes))
    if saved_weights is not None:
        estimator.weights = saved_weights
    estimator.module_.eval()
    estimator.history_ = History(history)


def _encode_params(estimator, class_params):
    """An estimator's parameters that differ from their defaults, as JSON; of them, those in
    ``class_params`` may be classes that :func:`allowed_classes` lists under their name."""
    defaults = type(estimator)().get_params(deep=False)
    params = {}
    for key, value in estimator.get_params(deep=False).items():
        if key in defaults and _same(value, defaults[key]):
            continue
        if key == "device" or key.startswith("_"):
            continue  # device is resolved at fit and load chooses again; "_" is skorch's bookkeeping
        try:
            params[key] = _encode(value, key if key in class_params else None)
        except TypeError as exc:
            if key in TRAINING_ONLY:
                warnings.warn(
                    f"fersk.save leaves out {key}={value!r}: it is only used in training", UserWarning, stacklevel=3
                )
                continue
            raise ValueError(
                f"parameter {key}={value!r} cannot be stored in a safe model file ({exc}); use a value "
                "of a built-in type or a class fersk.io.allowed_classes() lists for it, or joblib.dump for trusted use"
            ) from None
    return params


def _same(a, b):
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError, RuntimeError):
        return False


def _encode(value, place=None):
    """``value`` as JSON; a class only where ``place`` of the allow-list lists it, else TypeError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, place) for v in value]}
    if isinstance(value, list):
        return [_encode(v, place) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v, place) for k, v in value.items()}}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, type):
        name = _listed(value, place) if place else None
        if name is None:
            raise TypeError(f"the class {_qualified(value)} is not one fersk loads there: {_may_name(place)}")
        return {"__class__": name}
    raise TypeError(f"a {type(value).__name__}")


def _decode_params(params, class_params, owner, path):
    """Decode stored parameters (or fitted values) of ``owner``; of them, those in ``class_params`` may
    name classes that :func:`allowed_classes` lists under their name, and no others may name any."""
    if not isinstance(params, dict):
        raise ValueError(f"{path} holds values for {owner} that fersk cannot read: {params!r}")
    return {
        key: _decode(value, key if key in class_params else None, f"{key} of {owner}", path)
        for key, value in params.items()
    }


def _decode(value, place, where, path):
    if isinstance(value, list):
        return [_decode(v, place, where, path) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "__tuple__" and isinstance(inner, list):
            return tuple(_decode(v, place, where, path) for v in inner)
        if tag == "__dict__" and isinstance(inner, dict):
            return {k: _decode(v, place, where, path) for k, v in inner.items()}
        if tag == "__class__":
            return _allowed_class(inner, place, where, path)
    raise ValueError(f"{path} holds an unexpected value for {where}: {value!r}")


def _allowed_class(name, place, where, path):
    """The class stored as ``name``, from ``place`` of the allow-list; nothing is imported or called."""
    classes = allowed_classes()[place] if place else {}
    if not isinstance(name, str) or name not in classes:
        raise ValueError(f"{path} names {name!r} for {where}, which fersk does not load there: {_may_name(place)}")
    return classes[name]


def _may_name(place):
    """Which classes ``place`` may name, for a message."""
    if not place:
        return "a model file names classes only for a pipeline, its steps and the parameters " + ", ".join(CLASS_PARAMS)
    names = sorted(f"{cls.__module__.partition('.')[0]}.{cls.__name__}" for cls in allowed_classes()[place].values())
    label = {"pipeline": "the pipeline may be", "step": "a pipeline step may be"}.get(place, f"{place} may name")
    return f"{label} {', '.join(names)}"
