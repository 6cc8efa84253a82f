"""What skorch builds, from fersk's own parameters: the default callbacks, the network, its loss and
optimizer; and the probe that checks the built network takes the images it will be given."""

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, EpochScoring, LRScheduler, PassthroughScoring, ProgressBar

from ..._device import resolve_device
from ...training import EpochCheckpoint, WeightAveraging
from ._params import OPTIMIZERS


def _accuracy(net, X, y):
    """Accuracy from the cached forward pass of the epoch."""
    logits = net.forward(X)
    return float((logits.argmax(1).numpy() == np.asarray(y)).mean())


class BuildMixin:
    """skorch's ``initialize`` and the parts it builds, parametrised by fersk's flat parameters."""

    @property
    def _default_callbacks(self):
        validating = getattr(self, "validation_set_", None) is not None or (
            callable(self.train_split) or (self.train_split == "auto" and bool(self.validation_fraction))
        )
        monitor = "valid_loss" if validating else "train_loss"
        callbacks = [
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            # from the predictions already made on the (augmented) training batches
            ("train_acc", EpochScoring(_accuracy, name="train_acc", lower_is_better=False, on_train=True)),
        ]
        if validating:
            callbacks += [
                ("valid_loss", PassthroughScoring(name="valid_loss")),
                ("valid_acc", EpochScoring(_accuracy, name="valid_acc", lower_is_better=False)),
            ]
        if self.ema is not None:
            # before the callbacks that read the weights at the end of an epoch
            callbacks.append(("ema", WeightAveraging(self.ema)))
        if self.lr_schedule == "cosine":  # the constraints refuse other values at initialize
            # from lr down towards 0 over max_epochs, a step per epoch
            scheduler = LRScheduler(policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_epochs)
            callbacks.append(("lr_scheduler", scheduler))
        elif self.lr_patience:
            scheduler = LRScheduler(
                policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                monitor=monitor,
                patience=self.lr_patience,
                factor=0.5,
            )
            callbacks.append(("lr_scheduler", scheduler))
        if self.early_stopping:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor=monitor,
                        patience=self.early_stopping,
                        load_best=True,
                    ),
                )
            )
        if self.progress:
            callbacks.append(("progress_bar", ProgressBar()))
        if self.checkpoint is not None:
            callbacks.append(("checkpoint", EpochCheckpoint(self.checkpoint)))
        return super()._default_callbacks[:1] + callbacks + super()._default_callbacks[-1:]

    def get_params_for(self, prefix):
        params = super().get_params_for(prefix)
        if prefix == "module":
            params.setdefault("n_classes", len(self.classes_))
            params.setdefault("in_chans", self.image_shape_[2])
        if prefix == "criterion":
            params.setdefault("weight", torch.as_tensor(self.class_weight_, dtype=torch.float32))
            params.setdefault("gamma", self.focal_gamma if self.loss == "focal" else 0.0)
            params.setdefault("label_smoothing", self.label_smoothing)
        return params

    def initialize(self):
        """Build the network, its loss and optimizer and the callbacks, as skorch's ``initialize``.

        ``device="auto"`` is resolved here, to ``"cuda"`` where torch finds a GPU and ``"cpu"``
        elsewhere, and the result kept as ``device_``; ``device`` keeps what was given. With a
        ``random_state``, the initial weights are drawn from a generator seeded by it, and torch's
        global generators are left as they were.

        Returns
        -------
        self
        """
        self._validate_params()  # in a fit, the values were checked as it began: the names, once built
        self.device_ = resolve_device(self.device)
        try:
            with self._initial_weights(), self._device_for_skorch():
                super().initialize()
        except RuntimeError as exc:  # torch's, from building the network with bad module__* values
            routed = {k: v for k, v in self._routed_params().items() if k.startswith("module__")}
            if isinstance(exc, torch.OutOfMemoryError) or not routed:
                raise
            raise ValueError(
                f"{type(self).__name__} could not build its network ({str(exc).splitlines()[0]}); check the "
                f"parameters it was built from: {routed}"
            ) from exc
        # channels-last convolutions run 1.3x faster on CPU (benchmarks/bench_cnn_epoch.py)
        self.module_.to(memory_format=torch.channels_last)
        return self

    def _optimizer_groups(self, named_parameters):
        """Parameter groups for the optimizer; subclasses may split them."""
        args, kwargs = self.get_params_for_optimizer("optimizer", named_parameters)
        return args, kwargs

    def initialize_optimizer(self, *args, **kwargs):
        self._check_weight_decay()
        optimizer = OPTIMIZERS[self.optimizer] if isinstance(self.optimizer, str) else self.optimizer
        groups, options = self._optimizer_groups(self.get_all_learnable_params())
        options.setdefault("weight_decay", self.weight_decay)
        if optimizer is torch.optim.SGD:
            options.setdefault("momentum", 0.9)
        self.optimizer_ = optimizer(*groups, **options)
        return self

    # -- the built network against the images ---------------------------------------------

    def _check_image_size(self, shape=None):
        """One forward pass on a blank image of ``shape`` (default ``image_shape_``), so that images the
        network cannot take (too small; with ``warm_start``, other channels than it was fitted on) fail
        here, clearly."""
        h, w, c = self.image_shape_ if shape is None else shape
        training = self.module_.training
        self.module_.eval()
        try:
            with torch.no_grad():
                self.module_(torch.zeros(1, c, h, w, device=self.device_))
        except RuntimeError as exc:
            name = getattr(self, "backbone", type(self.module_).__name__)
            fitted = self.__dict__.get("image_shape_")
            if shape is not None and fitted is not None and fitted[2] != c:  # warm_start on other channels
                want = {1: "grayscale", 3: "RGB"}.get(fitted[2], f"{fitted[2]}-channel")
                raise ValueError(
                    f"{name} takes {want} images, and X holds {c}-channel {h}x{w} images; load them as the "
                    "network was trained (grayscale= in the loaders), or fit with warm_start=False for a new network"
                ) from None
            failure = str(exc).splitlines()[0]
            if not self._takes_blank(max(h, 224), max(w, 224), c):  # not the size: the network itself
                raise ValueError(
                    f"{name} fails on a blank image, of {h}x{w} pixels or larger ({failure}); check the "
                    f"parameters it was built from: {self._routed_params() or 'its defaults'}"
                ) from None
            raise ValueError(
                f"{name} cannot take {h}x{w} images ({failure}); they are too small for its downsampling: "
                "load larger images (image_size= in the loaders) or choose a network with fewer pooling stages"
            ) from None
        finally:
            self.module_.train(training)

    def _takes_blank(self, h, w, c):
        """Whether the network (in eval mode) takes a blank ``h`` x ``w`` image of ``c`` channels."""
        try:
            with torch.no_grad():
                self.module_(torch.zeros(1, c, h, w, device=self.device_))
        except RuntimeError:
            return False
        return True
