"""NeuralImageClassifier: skorch's classifier composed with a mixin for each of fersk's jobs."""

import numpy as np
from sklearn.base import TransformerMixin
from skorch import NeuralNetClassifier

from ...training import FocalLoss
from .._base import ImageClassifierMixin
from ._batches import BatchesMixin
from ._build import BuildMixin
from ._confidence import ConfidenceMixin
from ._docs import compose_doc
from ._fit import FitMixin
from ._params import ParametersMixin
from ._predict import PredictMixin
from ._prior_shift import PriorShiftMixin
from ._resume import ResumeMixin
from ._runtime import RuntimeMixin


class NeuralImageClassifier(
    ParametersMixin,  # constraints, validation, set_params on a built network (_params.py)
    BuildMixin,  # the callbacks, network, loss and optimizer skorch builds; the image-size probe (_build.py)
    RuntimeMixin,  # the device, a seeded fit's generators (_runtime.py)
    FitMixin,  # fit, partial_fit, warm starts (_fit.py)
    BatchesMixin,  # the split, iterators, training step and loss skorch's loop runs (_batches.py)
    ResumeMixin,  # checkpoint files (_resume.py)
    PriorShiftMixin,  # prior_shift and its choice (_prior_shift.py)
    PredictMixin,  # predict_proba, predict, transform (_predict.py)
    ConfidenceMixin,  # the temperature, prediction sets and abstention fersk.calibrate fits (_confidence.py)
    ImageClassifierMixin,
    TransformerMixin,
    NeuralNetClassifier,
):
    __doc__ = compose_doc(
        """skorch's ``NeuralNetClassifier`` with fersk's image convention and training recipes.

        The base of :class:`fersk.CNNClassifier` and :class:`fersk.TransferClassifier`, and the
        class to build on for a network of your own: give the network as ``module``. Everything
        routed by prefix (``module__*``, ``optimizer__*``, ``callbacks__*``, ``iterator_train__*``)
        works as in skorch, so it can be grid-searched.

        No call changes global state: ``device`` stays as given (``device_`` is the device
        chosen), and a seeded fit draws from generators of its own, leaving the global
        generators of torch, numpy and Python as they were.
        """,
        own="""
        module : torch.nn.Module class or instance
            The network. A class is built with ``n_classes`` and ``in_chans`` (filled in at
            fit from the labels and the images) and the ``module__*`` parameters. It takes
            (n, c, h, w) images in [0, 1] and gives a logit per class; :meth:`transform` needs
            it to define ``embed(x)``, the features its head takes in.
        """,
        examples="""
        >>> from fersk import make_faces
        >>> from fersk.backbones import FERNet
        >>> X, y = make_faces(70, image_size=32, random_state=0)
        >>> clf = NeuralImageClassifier(FERNet, max_epochs=1, module__channels=(8, 16), random_state=0)
        >>> clf.fit(X, y).predict_proba(X[:2]).shape
        (2, 7)
        """,
    )

    def __init__(
        self,
        module,
        *,
        image_shape=None,
        augment="basic",
        mixup=0.0,
        cutmix=0.0,
        class_weight=None,
        loss="cross_entropy",
        focal_gamma=2.0,
        label_smoothing=0.0,
        optimizer="adam",
        lr=1e-3,
        weight_decay=0.0,
        max_epochs=30,
        batch_size=64,
        validation_fraction=0.1,
        early_stopping=5,
        lr_schedule="plateau",
        lr_patience=2,
        ema=None,
        tta=None,
        prior_shift=0.0,
        checkpoint=None,
        random_state=None,
        device="auto",
        progress=False,
        verbose=0,
        **kwargs,
    ):
        kwargs.setdefault("criterion", FocalLoss)
        kwargs.setdefault("train_split", "auto")  # "auto": split by validation_fraction (get_split_datasets)
        super().__init__(
            module,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.image_shape = image_shape
        self.augment = augment
        self.mixup = mixup
        self.cutmix = cutmix
        self.class_weight = class_weight
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.label_smoothing = label_smoothing
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.lr_schedule = lr_schedule
        self.lr_patience = lr_patience
        self.ema = ema
        self.tta = tta
        self.prior_shift = prior_shift
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.progress = progress

    def _to_tensors(self, X):
        """2-D pixel rows (0-255) -> float32 (n, c, h, w) in [0, 1].

        The division casts the pixels to float32 as it goes: one float32 array in all, where a
        float32 copy of uint8 or float64 pixels, then divided, took twice the memory.
        """
        h, w, c = self.image_shape_
        images = np.asarray(X).reshape(len(X), h, w, c).transpose(0, 3, 1, 2)
        return np.divide(images, np.float32(255.0), dtype=np.float32)

    @property
    def classes_(self):
        # skorch treats attributes not ending in "_" as parameters, hence this name
        if "fitted_classes_" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} is not fitted yet: it has no classes_")
        return self.fitted_classes_

    @classes_.setter
    def classes_(self, value):
        self.fitted_classes_ = value
