"""fersk's skorch base, :class:`NeuralImageClassifier`, a module per job:

- ``_classifier.py``: the class, its parameters and the mixins it is composed of
- ``_docs.py``: the docs of the shared parameters, from which each class's docstring is composed
- ``_params.py``: the parameters' constraints and validation, ``set_params`` on a built network
- ``_build.py``: the callbacks, network, loss and optimizer skorch builds; the image-size probe
- ``_runtime.py``: the device, and a seeded fit's own generators
- ``_fit.py``: ``fit``, ``partial_fit``, warm starts
- ``_batches.py``: the split, iterators, training step and loss of skorch's loop
- ``_resume.py``: resuming from a checkpoint file
- ``_prior_shift.py``: the prior shift and its choice on the validation set
- ``_predict.py``: ``predict_proba``, ``predict``, ``transform``
"""

from ..._device import resolve_device
from ._build import _accuracy  # noqa: F401 - where pickles of fitted networks (their callbacks) find it
from ._classifier import NeuralImageClassifier
from ._prior_shift import PRIOR_SHIFTS

__all__ = ["PRIOR_SHIFTS", "NeuralImageClassifier", "resolve_device"]
