"""The classes a fersk model file may name, and the JSON its parameters are stored as.

:func:`allowed_classes` is the allow-list of :func:`fersk.load` and :func:`fersk.save`: a name
a file gives is looked up there, for its place, and nowhere else; nothing it names is
imported or called. ``encode_value`` / ``_decode`` turn parameters into JSON and back, naming
classes only where the list holds them.
"""

import functools
import warnings
from pathlib import Path
from types import MappingProxyType

import numpy as np
import torch
from torch import nn

from .backbones import FERNet, GatedExperts
from .preprocessing import FaceCropper, HOGTransformer
from .training import FocalLoss, TimeBudget, TwoPhaseFineTuning, WeightAveraging

# the parameters of a fersk estimator that may name a class (skorch builds them): each names one
# of the classes allowed_classes() lists under its name
CLASS_PARAMS = ("module", "criterion", "optimizer", "callbacks")
# (place, the name an earlier fersk stored) -> the class, now elsewhere: the shipped fer2013-muxspace model
# names GatedExperts where it was before backbones/_experts.py became backbones/_gated.py
RENAMED = {("module", "fersk.backbones._experts:GatedExperts"): GatedExperts}
TRAINING_ONLY = {"callbacks", "checkpoint"}


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
    listed = {place: {qualified_name(c): c for c in cs} for place, cs in places.items()}
    for (place, name), cls in RENAMED.items():  # files written before a class moved name it where it was
        listed[place][name] = cls
    return MappingProxyType({place: MappingProxyType(classes) for place, classes in listed.items()})


def _public_subclasses(module, base):
    """The public classes of ``module`` (a module of fersk's choosing) that derive from ``base``."""
    return [
        obj
        for name, obj in vars(module).items()
        if not name.startswith("_") and isinstance(obj, type) and issubclass(obj, base) and obj is not base
    ]


def qualified_name(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def listed_name(cls, place):
    """The name ``cls`` is stored under, where ``place`` of the allow-list holds it; else None."""
    name = qualified_name(cls)
    return name if allowed_classes()[place].get(name) is cls else None


def encode_params(estimator, class_params):
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
            params[key] = encode_value(value, key if key in class_params else None)
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


def encode_value(value, place=None):
    """``value`` as JSON; a class only where ``place`` of the allow-list lists it, else TypeError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [encode_value(v, place) for v in value]}
    if isinstance(value, list):
        return [encode_value(v, place) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode_value(v, place) for k, v in value.items()}}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, type):
        name = listed_name(value, place) if place else None
        if name is None:
            raise TypeError(f"the class {qualified_name(value)} is not one fersk loads there: {_may_name(place)}")
        return {"__class__": name}
    raise TypeError(f"a {type(value).__name__}")


def decode_params(params, class_params, owner, path):
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
            return allowed_class(inner, place, where, path)
    raise ValueError(f"{path} holds an unexpected value for {where}: {value!r}")


def allowed_class(name, place, where, path):
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
