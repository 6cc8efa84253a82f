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

import json

import numpy as np
import skops.io as sio
import torch
from skorch.history import History

from ._allowlist import (
    CLASS_PARAMS,
    RENAMED,  # noqa: F401  (fersk.io.RENAMED, beside allowed_classes)
    allowed_class,
    allowed_classes,  # noqa: F401  (fersk.io.allowed_classes, as the docs and messages name it)
    decode_params,
    encode_params,
    encode_value,
    listed_name,
    qualified_name,
)
from ._archive import MODULE, read_archive, tensors_from_bytes, tensors_to_bytes, write_archive
from ._device import check_device
from ._pretrained import PRETRAINED, pretrained_path, shipped_name
from ._threads import one_openmp_thread
from .classifiers import CNNClassifier, HOGSVMClassifier, NeuralImageClassifier, TransferClassifier
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
# fitted attributes a model file keeps, each with how it is read back: listed once, for save and load
FITTED = {
    "classes_": np.asarray,
    "image_shape_": tuple,
    "class_weight_": lambda value: np.asarray(value, dtype=float),
    "n_features_in_": int,
}


def _temperature(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"a temperature is a positive number, not {value!r}")
    return float(value)


def _fractions(value):
    """A sorted 1-D array of numbers in [0, 1]: calibration scores as fersk.calibrate stores them."""
    if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ValueError("calibration scores are a list of numbers")
    array = np.asarray(value, dtype=float)
    if not (np.isfinite(array).all() and (array >= 0).all() and (array <= 1).all()):
        raise ValueError("calibration scores lie between 0 and 1")
    return np.sort(array)


def _fraction_lists(value):
    """A list of sorted 1-D arrays of numbers in [0, 1]: calibration scores per expert."""
    if not isinstance(value, list):
        raise ValueError("calibration scores per expert are a list of lists of numbers")
    return [_fractions(scores) for scores in value]


NEURAL_FITTED = {
    "class_prior_": lambda value: np.asarray(value, dtype=float),
    "prior_shift_": float,
    # fersk.calibrate's (fersk.classifiers._calibrate): read back only as numbers, checked
    "temperature_": _temperature,
    "conformal_scores_": _fractions,
    "expert_conformal_scores_": _fraction_lists,
    "confidence_right_": _fractions,
    "confidence_wrong_": _fractions,
}
# what files written before an attribute existed predict with: unshifted
FITTED_DEFAULTS = {"prior_shift_": 0.0}
# fitted attributes a model may lack, saved where present: fersk.calibrate's (a model not calibrated), and
# class_prior_ (a file written before it existed, such as the shipped fer2013, loaded and saved again)
OPTIONAL_FITTED = {
    "class_prior_",
    "temperature_",
    "conformal_scores_",
    "expert_conformal_scores_",
    "confidence_right_",
    "confidence_wrong_",
}


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
    if listed_name(type(estimator), "pipeline"):
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
        "params": encode_params(estimator, CLASS_PARAMS),
        "fitted": {
            name: _fitted_value(getattr(estimator, name))
            for name in _fitted_attributes(estimator)
            if name not in OPTIONAL_FITTED or name in vars(estimator)
        },
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
    if isinstance(value, list):  # arrays of different lengths (calibration scores per expert)
        return [_fitted_value(item) for item in value]
    return np.asarray(value).tolist() if isinstance(value, (np.ndarray, tuple)) else encode_value(value)


def _save_pipeline(pipeline, path):
    *steps, (final_name, final) = pipeline.steps
    stored = []
    for name, step in steps:
        if step is None or step == "passthrough":
            stored.append({"name": name, "class": None})
            continue
        if not listed_name(type(step), "step"):
            raise ValueError(
                f"fersk.save cannot store the pipeline step {name!r} ({type(step).__name__}): a safe model file "
                "keeps steps that learn nothing from the data (resamplers, FaceCropper) before a fersk "
                "classifier. Fit that step's work into the classifier, or joblib.dump the pipeline for trusted use"
            )
        fitted = {}  # a resampler acts in fit only: a Pipeline passes it by when predicting
        if not hasattr(step, "fit_resample"):
            try:
                fitted = {k: encode_value(v) for k, v in vars(step).items() if _is_fitted_name(k)}
            except TypeError as exc:
                raise ValueError(
                    f"the pipeline step {name!r} holds fitted values ({exc}; fitted on a DataFrame?) that a safe "
                    "model file does not store; fit the pipeline on arrays, or joblib.dump it for trusted use"
                ) from None
        params = encode_params(step, ())
        stored.append({"name": name, "class": qualified_name(type(step)), "params": params, "fitted": fitted})
    manifest, members = _manifest(final)
    manifest["pipeline"] = {"class": qualified_name(type(pipeline)), "steps": stored, "final": final_name}
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
    params = decode_params(manifest.get("params"), CLASS_PARAMS, cls.__name__, path)
    fitted = {**FITTED_DEFAULTS, **decode_params(manifest.get("fitted"), (), cls.__name__, path)}
    pipeline = _read_pipeline(manifest["pipeline"], path) if "pipeline" in manifest else None
    _check_known_params(cls, params, manifest, path)
    estimator = cls(**params)
    for name, read in _fitted_attributes(estimator).items():
        if name in fitted:  # files from before class_prior_ existed lack it, an uncalibrated model temperature_
            try:
                value = read(fitted[name])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path} holds a value for {name} that fersk cannot use: {exc}") from None
            setattr(estimator, name, value)
    if isinstance(estimator, NeuralImageClassifier):
        _restore_network(estimator, members[MODULE], manifest.get("history", []), device)
        by_expert = vars(estimator).get("expert_conformal_scores_")
        experts = getattr(estimator.module_, "temperatures", None)
        if by_expert is not None and (experts is None or len(by_expert) != len(experts)):
            raise ValueError(
                f"{path} holds a value for expert_conformal_scores_ that fersk cannot use: scores for "
                f"{len(by_expert)} experts, and its network has {'none' if experts is None else len(experts)}"
            )
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
    pipeline_cls = allowed_class(stored.get("class"), "pipeline", "its pipeline", path)
    steps = []
    for step in stored["steps"]:
        if not isinstance(step, dict):
            raise ValueError(f"{path} holds a pipeline step fersk cannot read: {step!r}")
        name = step.get("name")
        if step.get("class") is None:
            steps.append((name, None, {}, {}))
            continue
        where = f"the pipeline step {name!r}"
        step_cls = allowed_class(step["class"], "step", where, path)
        params = decode_params(step.get("params", {}), (), where, path)
        known = step_cls().get_params(deep=False)
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"{path} sets parameter(s) {unknown} that {where} ({step_cls.__name__}) does not have")
        fitted = decode_params(step.get("fitted", {}), (), where, path)
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


def _restore_network(estimator, module_bytes, history, device):
    # a device that is not here is refused now, not at the first prediction; the parameter keeps what was
    # given (by the caller, else by the file: "auto"), and the estimator chooses from it as after fit
    check_device(
        device or estimator.device, "load with device='cpu', or leave device out to use a GPU where there is one"
    )
    if device is not None:
        estimator.device = device
    saved_weights = getattr(estimator, "weights", None)
    if saved_weights is not None:
        estimator.weights = None  # the file holds the trained weights; don't fetch the starting ones
    # Building and filling a network runs some of torch's operations in parallel, which starts the
    # calling thread's OpenMP pool; a process forked after that (gunicorn's --preload, a multiprocessing
    # pool with the fork start method) hangs at its first parallel operation (GNU OpenMP, torch's on
    # Linux). On one thread the pool is not started: a model loaded before forking predicts in the
    # children, on all their threads (tests/test_io_forged.py forks after a load).
    with one_openmp_thread():
        estimator.initialize()
        estimator.module_.load_state_dict(tensors_from_bytes(module_bytes))
    if saved_weights is not None:
        estimator.weights = saved_weights
    estimator.module_.eval()
    estimator.history_ = History(history)
