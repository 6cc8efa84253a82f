"""The skorch base of fersk's neural estimators."""

import contextlib
import difflib
import inspect
import os
import threading
import warnings
from numbers import Integral, Real

import joblib
import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.metrics import f1_score
from sklearn.utils._param_validation import Interval, Options, StrOptions, validate_parameter_constraints
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import EarlyStopping, EpochScoring, LRScheduler, PassthroughScoring, ProgressBar
from skorch.dataset import Dataset, ValidSplit, unpack_data
from skorch.utils import to_tensor

from ..backbones import inference_module
from ..preprocessing import feature_names, flatten_images, infer_image_shape
from ..training import POLICIES, TTA_POLICIES, FocalLoss, WeightAveraging, augment_batch, mix_batch, tta_views
from ..training._checkpoint import EpochCheckpoint, read_checkpoint, restore_training_state
from ..training._random import SeededDraws
from ._base import ImageClassifierMixin, check_labels

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
# skorch's own parameters, read from its signature so that a skorch release adding one is followed; where
# fersk declares a constraint of the same name (lr, batch_size, ...), fersk's is checked
_SKORCH_PARAMS = frozenset(
    name for net in (NeuralNet, NeuralNetClassifier) for name in inspect.signature(net.__init__).parameters
) - {"self", "args", "kwargs"}


def _skorch_checks(name):
    """Whether a parameter is skorch's: its own (fersk may check some too), its prefixed routes, and
    private attributes its ``get_params`` reports (``_params_to_validate``; scikit-learn's
    ``_parent_callback_ctx``, set on estimators inside a search)."""
    return name in _SKORCH_PARAMS or "__" in name or name.startswith("_")


def _setting_hash(value):
    """A hash of a parameter's value for a checkpoint: its pickle's, or for what cannot be pickled (a
    lambda given as a worker_init_fn) or is a module given as an instance (whose weights training
    changes), its type's name."""
    if isinstance(value, torch.nn.Module):
        return f"{type(value).__module__}.{type(value).__qualname__}"
    try:
        return joblib.hash(value)
    except Exception:  # noqa: BLE001 - pickling fails in many ways (PicklingError, TypeError, AttributeError)
        return f"{type(value).__module__}.{getattr(value, '__qualname__', type(value).__qualname__)}"


def _refuse_unknown_parameters(net):
    """Refuse parameters that neither fersk nor skorch knows (``lrr=``, ``iterator_train_shuffle=``), with
    the name meant where one is close; misspelt routes (``modul__x``) are skorch's to refuse, once the
    network is built and its routes are known."""
    known = [*net._fersk_constraints, *_SKORCH_PARAMS]
    unknown = sorted(k for k in net.get_params(deep=False) if not _skorch_checks(k) and k not in known)
    if not unknown:
        return
    hints = []
    for name in unknown:
        route = next(
            (p for p in net.prefixes_ + ["module", "criterion", "optimizer"] if name.startswith(p + "_")), None
        )
        meant = [f"{route}__{name[len(route) :].lstrip('_')}"] if route else difflib.get_close_matches(name, known, n=1)
        hints.append(f"{name} (did you mean {meant[0]}?)" if meant else name)
    raise ValueError(
        f"{type(net).__name__} got unexpected parameter(s) {', '.join(hints)}; "
        "see its docstring for its parameters, and skorch's for the routes (module__*, optimizer__*, ...)"
    )


# parameters a fit may change and still resume a checkpoint: they do not change the epochs done
# (max_epochs: a killed run may go on for more); callbacks are left out too (instances that hold state)
_RESUMABLE = {"checkpoint", "max_epochs", "verbose", "progress", "device", "warm_start"}
# skorch's routes to the batch sizes of training and of validation and prediction: -1 is one batch of all
_BATCH_ROUTES = ("iterator_train__batch_size", "iterator_valid__batch_size")
_NON_NEGATIVE = [Interval(Real, 0, None, closed="left")]
_PATIENCE = [Interval(Integral, 0, None, closed="left"), None]
# the shifts prior_shift="auto" chooses from, on the validation set
PRIOR_SHIFTS = np.round(np.linspace(0.0, 1.0, 11), 2)


class _DeterministicCudnn:
    """With ``seeded``, cuDNN's deterministic algorithms while the block runs, then the caller's
    settings back: the same ``random_state`` then trains the same network on a GPU too
    (cuDNN's fastest convolution gradients sum in a varying order).

    torch keeps these flags for the whole process, and offers no per-thread or per-call
    setting. Seeded fits running at once in several threads share one switch: the first to
    begin keeps the caller's settings, and the last to end gives them back (a lock and a
    count), so that no fit gives back settings while another still trains, nor gives back
    another's. While a seeded fit trains, every other fit in the process trains with the
    deterministic algorithms too.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._saved = None

    @contextlib.contextmanager
    def __call__(self, seeded):
        if not seeded:
            yield
            return
        cudnn = torch.backends.cudnn
        with self._lock:
            if self._users == 0:
                self._saved = cudnn.deterministic, cudnn.benchmark
                cudnn.deterministic, cudnn.benchmark = True, False
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    cudnn.deterministic, cudnn.benchmark = self._saved
                    self._saved = None


_deterministic_cudnn = _DeterministicCudnn()


def _same(a, b):
    """Whether two parameter values are the same (values of any type, None included)."""
    try:
        return a is b or bool(type(a) is type(b) and a == b)
    except Exception:  # values whose == is not a bool (arrays)
        return False


def _accuracy(net, X, y):
    """Accuracy from the cached forward pass of the epoch."""
    logits = net.forward(X)
    return float((logits.argmax(1).numpy() == np.asarray(y)).mean())


def resolve_device(device):
    """``"auto"`` -> ``"cuda"`` when a GPU is present, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _device_name(device):
    """skorch's choice of device as a name: it gives the CPU it falls back to as a ``torch.device``."""
    return str(device) if isinstance(device, torch.device) else device


class NeuralImageClassifier(ImageClassifierMixin, TransformerMixin, NeuralNetClassifier):
    """skorch's ``NeuralNetClassifier`` with fersk's image convention and training recipes.

    Subclasses give the module (``module``) and may add parameters; everything
    routed by prefix (``module__*``, ``optimizer__*``, ``callbacks__*``,
    ``iterator_train__*``) works as in skorch, so it can be grid-searched. The
    parameters are described in :class:`fersk.CNNClassifier`.

    No call changes global state: ``device`` stays as given (``device_`` is the device
    chosen), and a seeded fit draws from generators of its own, leaving the global
    generators of torch, numpy and Python as they were.
    """

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

    # what fersk adds to skorch, declared once: checked at fit by scikit-learn's validator
    _fersk_constraints = {
        "image_shape": [tuple, list, None],
        "augment": [StrOptions(set(POLICIES))],
        "mixup": _NON_NEGATIVE,
        "cutmix": _NON_NEGATIVE,
        "class_weight": [StrOptions({"balanced", "balanced_sqrt"}), dict, None],
        "loss": [StrOptions({"cross_entropy", "focal"})],
        "focal_gamma": _NON_NEGATIVE,
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "lr": _NON_NEGATIVE,
        "weight_decay": _NON_NEGATIVE,
        "max_epochs": [Interval(Integral, 1, None, closed="left")],  # skorch's EarlyStopping fails on a fit of 0 epochs
        "batch_size": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1})],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "train_split": [StrOptions({"auto"}), callable, None],
        "early_stopping": _PATIENCE,
        "lr_schedule": [StrOptions({"plateau", "cosine"})],
        "lr_patience": _PATIENCE,
        "ema": [Interval(Real, 0, 1, closed="neither"), None],
        "tta": [StrOptions({p for p in TTA_POLICIES if p}), None],
        "prior_shift": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "checkpoint": [str, os.PathLike, None],
        "random_state": [Interval(Integral, None, None, closed="neither"), None],
        "device": [str, torch.device, None],
        "progress": ["boolean"],
        "verbose": ["verbose"],
    }

    @property
    def _parameter_constraints(self):
        """Each parameter's constraints, as scikit-learn declares them: fersk's own are checked at fit;
        skorch's and its prefixed routes (``module__*``, ``optimizer__*``) are skorch's to check."""
        return {name: self._fersk_constraints.get(name, "no_validation") for name in self.get_params(deep=False)}

    # fersk's flat parameters from which initialize() builds skorch's default callbacks
    _CALLBACK_PARAMS = frozenset(
        {"validation_fraction", "train_split", "early_stopping", "lr_schedule", "lr_patience", "max_epochs", "ema"}
        | {"progress", "checkpoint", "head_epochs", "fine_tune_layers"}
    )

    def set_params(self, **params):
        """Set parameters, as skorch's ``set_params``; returns self.

        On a fitted network, fersk's flat parameters take effect for ``partial_fit`` and
        ``warm_start`` too, as skorch's own do: ``weight_decay`` goes to the optimizer (as
        ``lr`` does), and the parameters that shape the default callbacks (``early_stopping``,
        ``lr_schedule``, ``ema``, ``validation_fraction``, ...) rebuild them. The iterators'
        options (``iterator_train__batch_size``, ``iterator_valid__batch_size``, ...) apply from
        the next pass over the data (skorch 1.4 refuses them on a built network). ``device``
        applies from the next ``initialize`` (a new ``fit``): a built network stays on
        ``device_`` until then, also when ``module__*`` parameters rebuild it here.
        """
        watched = self._CALLBACK_PARAMS | {"weight_decay"}
        before = {k: self.__dict__[k] for k in params if k in watched and k in self.__dict__}
        if not self.initialized_:
            super().set_params(**params)
            return self
        device = params.pop("device", self.device)
        # skorch takes these for parameters of a module to rebuild, finds none and raises "Something
        # went wrong": they rebuild nothing, and the iterators are made at each pass
        iterators = {k: params.pop(k) for k in list(params) if k.startswith(("iterator_train__", "iterator_valid__"))}
        with self._initial_weights(), self._device_for_skorch():  # module__* rebuild the network
            super().set_params(**params)
        self.device = device
        for name, value in iterators.items():
            setattr(self, name, value)
            self._params_to_validate.add(name)  # skorch checks the routes' names at the next initialize
        changed = {k for k, v in before.items() if not _same(v, self.__dict__[k])}
        if "weight_decay" in changed and hasattr(self, "optimizer_"):
            for group in self.optimizer_.param_groups:  # those that took the flat value
                if group.get("weight_decay") == before["weight_decay"]:
                    group["weight_decay"] = self.weight_decay
        if changed - {"weight_decay"}:
            self._initialize_callbacks()
        return self

    def _validate_params(self):
        _refuse_unknown_parameters(self)
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False), caller_name=type(self).__name__
        )
        routes = {k: v for k, v in self.get_params(deep=False).items() if k in _BATCH_ROUTES}
        if routes:  # skorch passes them to the DataLoader unchecked; fersk batches predictions by them too
            constraint = self._fersk_constraints["batch_size"]
            validate_parameter_constraints(dict.fromkeys(routes, constraint), routes, caller_name=type(self).__name__)
        if "module_" in self.__dict__:  # the routes (module__, optimizer__, ...) are known once built
            super()._validate_params()  # skorch's: a misspelt route (modul__x)
        routed = self.get_params().get("optimizer__weight_decay", self.weight_decay)
        if self.weight_decay and routed != self.weight_decay:
            raise ValueError(
                f"weight_decay={self.weight_decay!r} and optimizer__weight_decay={routed!r} set the same "
                "thing; set one of them (weight_decay is the short name for optimizer__weight_decay)"
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # features are float32 whatever the pixels
        return tags

    # -- what skorch builds, parametrised by fersk's own parameters ----------------

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

    def __setstate__(self, state):
        # skorch maps the stored tensors to state["device"], and falls back to the CPU (with its
        # DeviceWarning) where that device is missing. They are on device_ (a network fitted on a
        # GPU: "cuda"); an unfitted estimator, as joblib and Dask ship it to their workers, has
        # none, and "auto" is no device torch knows
        given = state.get("device")
        state["device"] = state.get("device_") or resolve_device(given)
        super().__setstate__(state)
        if "device_" in state or state.get("initialized_"):
            self.device_ = _device_name(self.__dict__["device"])  # where skorch put the network
        if given == "auto" or given is None:
            # what the user gave stays; a device given by name follows skorch: a missing one is
            # replaced by the one used, with skorch's warning
            self.device = given

    @contextlib.contextmanager
    def _device_for_skorch(self):
        """skorch reads the device to build, move and load the network on from ``self.device``:
        while the block runs, it holds ``device_`` (the device chosen), then what the user gave
        again. Where skorch changes it (a GPU's weights loaded on a machine without one, with
        skorch's warning), ``device_`` takes the change.

        Only the methods that build or load the network run in the block (``initialize``,
        ``set_params`` of a built network, ``load_params``), never training or prediction, which
        read ``device_`` themselves: a fitted network may predict in several threads at once.
        """
        given = self.__dict__.get("device")
        self.__dict__["device"] = self.__dict__.get("device_") or resolve_device(given)
        try:
            yield
        finally:
            if self.initialized_:
                self.device_ = _device_name(self.__dict__["device"])
            self.__dict__["device"] = given

    def initialize(self):
        """Build the network, its loss and optimizer and the callbacks, as skorch's ``initialize``.

        ``device="auto"`` is resolved here, to ``"cuda"`` where torch finds a GPU and ``"cpu"``
        elsewhere, and the result kept as ``device_``; ``device`` keeps what was given. With a
        ``random_state``, the initial weights are drawn from a generator seeded by it, and torch's
        global generators are left as they were.
        """
        self._validate_params()
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

    def _initial_weights(self):
        """A block that builds the network: with a ``random_state``, its initial weights are drawn
        from a stream seeded by it (torch's layers draw them from its global generators and take no
        other), and the global generators are given back after."""
        if self.random_state is None:
            return contextlib.nullcontext()
        return SeededDraws(self.random_state, self.device_).global_generators()

    def load_params(self, *args, **kwargs):
        """skorch's ``load_params``, onto the network's device ``device_``."""
        with self._device_for_skorch():
            return super().load_params(*args, **kwargs)

    def _optimizer_groups(self, named_parameters):
        """Parameter groups for the optimizer; subclasses may split them."""
        args, kwargs = self.get_params_for_optimizer("optimizer", named_parameters)
        return args, kwargs

    def initialize_optimizer(self, *args, **kwargs):
        optimizer = _OPTIMIZERS[self.optimizer] if isinstance(self.optimizer, str) else self.optimizer
        groups, options = self._optimizer_groups(self.get_all_learnable_params())
        options.setdefault("weight_decay", self.weight_decay)
        if optimizer is torch.optim.SGD:
            options.setdefault("momentum", 0.9)
        self.optimizer_ = optimizer(*groups, **options)
        return self

    # -- training ----------------------------------------------------------------------

    def _to_tensors(self, X):
        """2-D pixel rows (0-255) -> float32 (n, c, h, w) in [0, 1].

        The division casts the pixels to float32 as it goes: one float32 array in all, where a
        float32 copy of uint8 or float64 pixels, then divided, took twice the memory.
        """
        h, w, c = self.image_shape_
        images = np.asarray(X).reshape(len(X), h, w, c).transpose(0, 3, 1, 2)
        return np.divide(images, np.float32(255.0), dtype=np.float32)

    def fit(self, X, y, X_val=None, y_val=None, sample_weight=None, **fit_params):
        """Train on images ``X`` (pixel values 0-255) with labels ``y``; returns self.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels), or (n, h, w) / (n, h, w, c)
        y : array-like of shape (n_samples,)
            Labels of any type (e.g. emotion names); ``classes_`` holds them sorted.
        X_val, y_val : array-like, optional
            A fixed validation set for early stopping and the learning-rate schedule,
            as in scikit-learn's ``HistGradientBoostingClassifier.fit``; it replaces
            the split drawn by ``validation_fraction``. Images of labels that ``y`` lacks
            (a ``learning_curve`` step) are left out of it with a warning, unless ``classes``
            names them.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the training images: each image's loss is multiplied by its
            weight and by its class's ``class_weight``, and each batch's loss is the
            weighted mean. The validation loss and the split ignore them. A mixed
            image (``mixup``, ``cutmix``) keeps the weight of the image it was mixed
            into. Needs the default criterion (:class:`fersk.training.FocalLoss`).
        **fit_params
            Passed to skorch's ``fit``.
        """
        return self._fit(X, y, self.classes, X_val, y_val, sample_weight, **fit_params)

    def _fit(self, X, y, classes, X_val, y_val, sample_weight, **fit_params):
        """:meth:`fit`, the labels being ``classes`` (None: those ``y`` holds)."""
        if any(cls.__name__ == "AccelerateMixin" for cls in type(self).__mro__):
            raise ValueError(
                "skorch's AccelerateMixin replaces train_step_single, so fersk's batch augmentation, "
                "mixup and CutMix would be dropped without a word; fersk does not support it. Scale out "
                "with one worker per GPU instead (see the user guide, 'Scaling out')"
            )
        self._validate_params()
        check_labels(y)
        self._check_prior_shift(X_val)
        if self.warm_start and self.initialized_:
            self._check_warm_start_classes(y if classes is None else classes)
            flat, carried = flatten_images(X, self.image_shape)
            self._check_image_size(infer_image_shape(self.image_shape, np.shape(flat)[1], carried))
        X, y_encoded = self._validate_fit(X, y, classes, depth=2)  # fit or partial_fit, then _fit
        sample_weight = self._check_sample_weight(sample_weight, X)
        self.class_prior_ = np.bincount(y_encoded, minlength=len(self.classes_)) / len(y_encoded)
        if self.prior_shift != 0 and not self.class_prior_.all():
            raise ValueError(
                f"prior_shift={self.prior_shift!r} divides by each class's frequency in y, and y holds no "
                f"image of {self.classes_[self.class_prior_ == 0].tolist()}; give prior_shift=0, or train "
                "on images of every class"
            )
        self.prior_shift_ = 0.0 if self.prior_shift == "auto" else float(self.prior_shift)
        self.validation_set_ = self.tuning_set_ = None
        if (X_val is None) != (y_val is None):
            raise ValueError("pass both X_val and y_val, or neither")
        if X_val is not None:
            self.validation_set_ = self._validation_dataset(X_val, y_val)
        if np.asarray(X).max() <= 1.0:
            warnings.warn(
                "X looks scaled to [0, 1]; fersk expects pixel values 0-255 as its loaders return them",
                UserWarning,
                stacklevel=3,
            )
        epochs_before = 0  # of a model trained on with warm_start: max_epochs counts this fit's epochs only
        if not self.warm_start or not self.initialized_:
            self.initialize()
            self._check_image_size()
        else:  # the images were checked against the fitted network above
            epochs_before = len(self.history)
            self.initialize_callbacks()  # settings made since the last fit (callbacks, early_stopping...) apply
        try:
            if self.checkpoint is not None:
                fit_params["epochs"] = self._resume(X, y_encoded, X_val, y_val, sample_weight, epochs_before)
                if fit_params["epochs"] == 0:
                    # a finished run, restored: the seeded split gives back its validation set
                    self.get_split_datasets(self._to_tensors(X), y_encoded.astype(np.int64))
                    return self._tune_prior_shift()
            with self._seeded_training():
                # _routing_method: requests made with set_fit_request are those of fit, not partial_fit
                super().partial_fit(
                    self._inputs(X, sample_weight),
                    y_encoded.astype(np.int64),
                    _routing_method="fit",
                    **fit_params,
                )
            return self._tune_prior_shift()
        finally:
            self.validation_set_ = self.tuning_set_ = None
            self.epoch_datasets_ = ()

    @contextlib.contextmanager
    def _seeded_training(self):
        """The block trains; with a ``random_state``, on the fit's own generators (``_draws_``, seeded
        again at each epoch from ``(random_state, epoch)``, see :meth:`run_single_epoch`) and with
        cuDNN's deterministic algorithms, leaving torch's global generators as they were."""
        seeded = self.random_state is not None
        if seeded:
            self._draws_ = SeededDraws(self.random_state, self.device_)
        try:
            with _deterministic_cudnn(seeded):
                yield
        finally:
            self.__dict__.pop("_draws_", None)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # a seeded fit's draws in epoch k come from (random_state, k) alone: a resumed fit, a
        # partial_fit or a warm start go on where the history says, with no state to carry
        draws = self.__dict__.get("_draws_")
        if training and draws is not None:
            draws.start_epoch(len(self.history))
        return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def _validation_dataset(self, X_val, y_val):
        """``fit``'s ``X_val`` and ``y_val`` as a skorch Dataset, without the images of labels ``y`` lacks.

        The network has no output for those, so no loss: a ``learning_curve`` step or a fold may lack
        a class that a fixed validation set holds. They are left out with a warning.
        """
        check_labels(y_val, "y_val")
        X_val = self._validate_predict(X_val)
        y_val = column_or_1d(y_val, warn=True)
        if len(y_val) != len(X_val):
            raise ValueError(f"X_val holds {len(X_val)} images and y_val {len(y_val)} labels; give one label per image")
        unseen = ~np.isin(y_val, self.classes_)
        if unseen.any():
            labels = sorted(set(y_val[unseen].tolist()))
            advice = "give classes= all the labels, so that the network has an output for each"
            if unseen.all():
                raise ValueError(
                    f"y_val holds only label(s) that y lacks, which this model never saw at fit: {labels} "
                    f"(y holds {self.classes_.tolist()}); {advice}"
                )
            warnings.warn(
                f"y_val holds {int(unseen.sum())} image(s) of label(s) {labels} that y lacks; the network has no "
                f"output for them, so validation leaves them out. To keep them, {advice}",
                UserWarning,
                stacklevel=4,
            )
            X_val, y_val = X_val[~unseen], y_val[~unseen]
        return Dataset(self._to_tensors(X_val), self._encode(y_val, "y_val").astype(np.int64))

    def _check_warm_start_classes(self, y):
        """With ``warm_start``, ``fit`` continues the fitted network, whose head has a unit per class:
        ``y`` (or ``classes``) must hold the classes it was fitted on. Checked before ``fit`` changes
        anything."""
        if "fitted_classes_" not in self.__dict__:  # initialized, never fitted: nothing to continue
            return
        classes = unique_labels(y)
        if not np.array_equal(classes, self.classes_):
            subset = set(classes.tolist()) <= set(self.classes_.tolist())
            raise ValueError(
                f"warm_start continues the network fitted on {len(self.classes_)} classes "
                f"{self.classes_.tolist()}, and y holds {classes.tolist()}; "
                + (
                    "to go on training on images of some of them, set classes=model.classes_ "
                    "(model.set_params(classes=model.classes_)); "
                    if subset
                    else ""
                )
                + "fit with warm_start=False to train a new network on these classes"
            )

    def _check_sample_weight(self, sample_weight, X):
        if sample_weight is None:
            return None
        from sklearn.utils.validation import _check_sample_weight

        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32, ensure_non_negative=True)
        criterion = self.criterion if isinstance(self.criterion, type) else type(self.criterion)
        if not issubclass(criterion, FocalLoss):
            raise ValueError(
                f"sample_weight needs a criterion that weighs each sample, such as fersk's default "
                f"FocalLoss; this model's criterion is {criterion.__name__}. Leave criterion at its default "
                "(loss='cross_entropy' is FocalLoss with gamma=0) or drop sample_weight"
            )
        return sample_weight

    def _inputs(self, X, sample_weight):
        """What skorch trains on: the images, with their weights when there are any."""
        images = self._to_tensors(X)
        return images if sample_weight is None else {"X": images, "sample_weight": sample_weight}

    def _check_prior_shift(self, X_val):
        has_split = callable(self.train_split) or (self.train_split == "auto" and self.validation_fraction)
        if self.prior_shift == "auto" and X_val is None and not has_split:
            raise ValueError(
                "prior_shift='auto' chooses the shift on the validation set, and there is none: "
                "pass X_val and y_val to fit, set validation_fraction > 0, or give prior_shift a number"
            )

    def _tune_prior_shift(self):
        """With ``prior_shift="auto"``, choose ``prior_shift_`` by macro-F1 on the validation set."""
        if self.prior_shift != "auto" or self.tuning_set_ is None:
            return self
        images, y_valid = _arrays(self.tuning_set_)
        log_proba = np.log(np.clip(self._proba(images, shift=0.0), 1e-12, None))
        labels = np.arange(len(self.classes_))
        scores = [
            f1_score(
                y_valid,
                (log_proba - shift * np.log(self.class_prior_)).argmax(1),
                labels=labels,
                average="macro",
                zero_division=0,
            )
            for shift in PRIOR_SHIFTS
        ]
        best = int(np.argmax(scores))  # the smallest shift among equals
        self.prior_shift_ = float(PRIOR_SHIFTS[best])
        if self.verbose:
            print(
                f"prior_shift='auto': {self.prior_shift_} (validation macro-F1 {scores[best]:.3f}, "
                f"{scores[0]:.3f} unshifted)"
            )
        return self

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

    def _routed_params(self):
        """The parameters routed to the network, its loss and its optimizer (``module__*``, ...)."""
        prefixes = ("module__", "criterion__", "optimizer__")
        return {k: v for k, v in self.get_params(deep=False).items() if k.startswith(prefixes)}

    def _resume(self, X, y_encoded, X_val, y_val, sample_weight, epochs_before=0):
        """Restore the training state from ``checkpoint`` when the file exists; returns the epochs left
        (None: no file to resume, train ``max_epochs``).

        A fit begins after ``epochs_before`` epochs (0, or a ``warm_start`` fit's) and ends after
        ``max_epochs`` more; the file records where the fit that wrote it began. A file of this
        fit is resumed: finished (by ``max_epochs``, early stopping or a time budget), it is
        restored without training; interrupted, it is trained on to the fit's end. A model that is
        where an interrupted warm start stopped (fitted again after Ctrl-C) resumes that fit too;
        one that is where a finished fit ended goes on from itself, with a fresh warm start.
        """
        checkpointer = dict(self.callbacks_)["checkpoint"]
        checkpointer.start_ = epochs_before
        fingerprint = (type(self).__name__, X, y_encoded, X_val, y_val)
        if sample_weight is not None:  # unweighted runs keep the fingerprints they had
            fingerprint += (sample_weight,)
        checkpointer.fingerprint_ = joblib.hash(fingerprint)
        checkpointer.settings_ = {
            k: _setting_hash(v)
            for k, v in self.get_params(deep=False).items()
            if k not in _RESUMABLE and not k.startswith(("_", "callbacks"))
        }
        state = read_checkpoint(self.checkpoint, self, checkpointer.fingerprint_, checkpointer.settings_)
        if state is None:
            return None
        # files written before checkpoints held it: taken for this fit's, as they were
        began, written = state.get("epochs_before", epochs_before), len(state["history"])
        if began != epochs_before:
            if began < epochs_before == written and state["complete"]:
                return None  # this model is where that fit ended: nothing to restore
            if not began < epochs_before == written:
                raise ValueError(
                    f"the checkpoint {self.checkpoint} holds a fit of epochs {began + 1} to {written}, and this "
                    f"model has trained {epochs_before} epoch(s) before this fit: the file belongs to another "
                    "fit of this model; delete it to start afresh, or choose another checkpoint path"
                )
            checkpointer.start_ = epochs_before = began  # fitted again where an interrupted run stopped
        checkpointer.pending_ = restore_training_state(self, state)
        done = len(self.history) - epochs_before
        left = 0 if state["complete"] else max(self.max_epochs - done, 0)
        if self.verbose:
            print(f"Resuming from {self.checkpoint}: {done} epoch(s) done, {left} to go.")
        return left

    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_params):
        """Train for ``max_epochs`` more epochs, continuing from the current weights.

        The first call on an unfitted estimator is :meth:`fit`. Later calls must use
        images of the fitted shape and labels from ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels), or (n, h, w) / (n, h, w, c)
        y : array-like of shape (n_samples,)
        classes : array-like, optional
            All the labels, as scikit-learn's ``partial_fit`` takes them: on the first call,
            ``y`` may hold some of them only. Later calls may repeat them (or leave them out),
            not change them. None: the skorch parameter ``classes``, else the labels of ``y``.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the images, as in :meth:`fit`.
        **fit_params
            Passed to skorch's ``partial_fit``.
        """
        if not self.initialized_ or "fitted_classes_" not in self.__dict__:
            classes = self.classes if classes is None else classes
            return self._fit(X, y, classes, None, None, sample_weight, **fit_params)
        if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differ from those of the first partial_fit, "
                f"{self.classes_.tolist()}; a network's classes are fixed by its first fit"
            )
        self._validate_params()  # set_params since the last call
        X = self._validate_predict(X)
        sample_weight = self._check_sample_weight(sample_weight, X)
        try:
            with self._seeded_training():
                super().partial_fit(self._inputs(X, sample_weight), self._encode(y).astype(np.int64), **fit_params)
            return self._tune_prior_shift()
        finally:
            self.tuning_set_ = None
            self.epoch_datasets_ = ()

    def get_split_datasets(self, X, y=None, **fit_params):
        # X_val/y_val; else train_split: "auto" splits by validation_fraction, None trains on
        # everything (as skorch documents), a callable splits as in skorch
        dataset = self.get_dataset(X, y)
        if getattr(self, "validation_set_", None) is not None:
            dataset_valid = self.validation_set_
        else:
            split = self._split(y) if self.train_split == "auto" else self.train_split
            if split is None:
                return dataset, None
            dataset, dataset_valid = split(dataset, y, **fit_params)
        # kept until fit ends, for prior_shift="auto"
        self.tuning_set_ = dataset_valid
        # the datasets skorch's callbacks score (EpochScoring with a scorer's name): labels are indices
        self.epoch_datasets_ = (dataset, dataset_valid)
        return dataset, dataset_valid

    def get_iterator(self, dataset, training=False):
        """skorch's iterator over ``dataset``: ``iterator_train__*`` or ``iterator_valid__*`` options,
        ``batch_size`` where they give none, and -1 for one batch of all of it.

        A ``DataLoader`` draws a seed from torch's global generator at each pass unless it is given
        a ``generator``: a seeded fit's training passes take the fit's own (it orders the batches
        with ``iterator_train__shuffle=True``), and evaluation passes (validation, skorch's
        ``forward``) a fresh one, having nothing to draw. A ``generator`` of your own
        (``iterator_train__generator``) is used instead.
        """
        route = "iterator_train" if training else "iterator_valid"
        iterator = getattr(self, route)
        options = {"batch_size": self.batch_size, **self.get_params_for(route)}
        size = options["batch_size"] = len(dataset) if options["batch_size"] == -1 else options["batch_size"]
        if isinstance(iterator, type) and issubclass(iterator, torch.utils.data.DataLoader):
            draws = self.__dict__.get("_draws_")
            if not training:
                options.setdefault("generator", torch.Generator())
            elif draws is not None:
                options.setdefault("generator", draws.shuffle)
        if not training:
            return iterator(dataset, **options)
        # a BatchNorm1d over (n, features) sees one value per feature in a batch of one: torch refuses it
        if size == 1 and len(dataset) > 1 and any(isinstance(m, torch.nn.BatchNorm1d) for m in self.module_.modules()):
            name = "iterator_train__batch_size" if "iterator_train__batch_size" in self.get_params() else "batch_size"
            raise ValueError(
                f"{name}=1 cannot train {type(self.module_).__name__}: its BatchNorm1d layers need 2 images "
                f"or more in a training batch; give {name}=2 or more"
            )
        if len(dataset) > 1 and len(dataset) % size == 1:
            # a last batch of one image breaks BatchNorm in train mode: leave that image out
            # of the epoch (shuffling leaves out another one each epoch)
            options.setdefault("drop_last", True)
        return iterator(dataset, **options)

    def _split(self, y_encoded):
        if not self.validation_fraction or y_encoded is None:
            return None
        counts = np.bincount(y_encoded)
        n_valid = int(np.floor(self.validation_fraction * len(y_encoded)))
        stratified = counts.min() >= 2 and min(n_valid, len(y_encoded) - n_valid) >= len(counts)
        seed = None if self.random_state is None else int(self.random_state)
        return ValidSplit(self.validation_fraction, stratified=stratified, random_state=seed)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, yi = to_tensor(Xi, device=self.device_), to_tensor(yi, device=self.device_)
        weight = None
        if isinstance(Xi, dict):  # images with their sample weights (fit's sample_weight)
            Xi, weight = Xi["X"], Xi["sample_weight"]
        draws = self.__dict__.get("_draws_")
        generator = None if draws is None else draws.augment  # None: torch's global generator (unseeded)
        Xi = augment_batch(Xi, self.augment, generator=generator)
        Xi, y_a, y_b, lam = mix_batch(Xi, yi, mixup=self.mixup, cutmix=self.cutmix, generator=generator)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, y_a, X=Xi, training=True, sample_weight=weight)
        if lam < 1.0:
            loss = lam * loss + (1 - lam) * self.get_loss(y_pred, y_b, X=Xi, training=True, sample_weight=weight)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False, sample_weight=None):
        """skorch's loss, on ``device_``, weighing each sample by ``sample_weight`` when it is given."""
        y_true = to_tensor(y_true, device=self.device_)
        if sample_weight is not None:
            return self.criterion_(y_pred, y_true, sample_weight=sample_weight)
        if isinstance(self.criterion_, torch.nn.NLLLoss):  # as skorch's NeuralNetClassifier: a softmax output
            y_pred = torch.log(y_pred + torch.finfo(y_pred.dtype).eps)
        return self.criterion_(y_pred, y_true)

    def infer(self, x, **fit_params):
        """The module's output for batch ``x``, on ``device_``, as skorch's ``infer``.

        In a seeded fit, the module runs on the fit's own random stream: dropout draws from
        torch's global generators and takes no other, so they are set to that stream while it
        runs and given back after (``torch.random.fork_rng``).
        """
        if isinstance(x, dict):  # images with their sample weights: the module takes the images
            x = x["X"]
        x = to_tensor(x, device=self.device_)
        draws = self.__dict__.get("_draws_")
        with draws.global_generators() if draws is not None else contextlib.nullcontext():
            return self.module_(x, **fit_params)

    # -- prediction --------------------------------------------------------------------

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        With ``tta`` set, the probabilities are averaged over the augmented views
        (see :func:`fersk.training.tta_views`). With a prior shift (``prior_shift_``
        above 0), they are the network's probabilities divided by the training class
        frequencies to that power and renormalised: the posterior the network would
        give were the classes more evenly frequent than in training.
        """
        check_is_fitted(self, "module_")
        if self._scores_indices(X):
            return self._dataset_proba(X)
        if isinstance(X, torch.utils.data.Dataset):
            raise TypeError(
                f"X is a torch Dataset ({type(X).__name__}); fersk's networks predict images given as an "
                "array, one flattened image per row with pixel values 0-255, as fit takes them: give the "
                "dataset's images as one (e.g. np.stack([image for image, _ in dataset]))"
            )
        return self._proba(self._to_tensors(self._validate_predict(X)), shift=self.prior_shift_)

    def _dataset_proba(self, dataset):
        """Probabilities of the images of a skorch ``Dataset``, through skorch's ``forward``.

        skorch's scoring callbacks (``EpochScoring("f1_macro")``) score the training or validation
        dataset of the epoch, whose labels are class indices: :meth:`predict` gives them indices
        too, and ``forward`` gives them the predictions skorch cached during the epoch.
        """
        logits = self.forward(dataset, training=False)
        return self._shifted(torch.softmax(logits.detach().float(), dim=1).cpu().numpy(), self.prior_shift_)

    def _proba(self, images, shift):
        """Class probabilities of (n, c, h, w) images in [0, 1], shifted away from the training prior."""
        return self._shifted(self._over_views(images, lambda net, v: torch.softmax(net(v), dim=1)), shift)

    def _shifted(self, proba, shift):
        """Probabilities divided by the training prior to the power ``shift``, renormalised."""
        proba = proba.astype(np.float64)
        if shift:
            proba = proba * self.class_prior_**-shift
        # softmax ran in float32: renormalise in float64 so rows sum to 1 as log_loss expects
        return proba / proba.sum(axis=1, keepdims=True)

    def _over_views(self, images, output):
        """``output(net, x)`` of (n, c, h, w) images, averaged over the ``tta`` views.

        ``net`` is the network with its BatchNorm folded (``fersk.backbones.inference_module``:
        the same outputs, about 1.15x more images per CPU-second), under ``torch.inference_mode``.
        The views of a batch go through it together, ``batch_size`` images per forward pass (or
        ``iterator_valid__batch_size``, as skorch predicts; -1: all the images): one pass of ten
        images for one face with ``tta="crops"``, not ten passes of one.
        """
        if self.module_.training:  # eval() walks every layer: once is enough
            self.module_.eval()
        net = inference_module(self.module_)  # outside inference_mode: its tensors are kept
        size = self.get_params_for("iterator_valid").get("batch_size", self.batch_size)
        size = len(images) if size == -1 else size
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), size):
                batch = torch.as_tensor(images[start : start + size], device=self.device_)
                views = tta_views(batch, self.tta)
                stacked = views[0] if len(views) == 1 else torch.cat(views)
                result = torch.cat([output(net, stacked[i : i + size]) for i in range(0, len(stacked), size)])
                out.append(result.view(len(views), len(batch), -1).mean(dim=0).cpu().numpy())
        return np.concatenate(out)

    def transform(self, X):
        """The network's features of images ``X``: what its classification head takes in.

        These are the embeddings a nearest-neighbour or linear model can be fit on, so that
        the network is the first step of a Pipeline (``make_pipeline(net, Normalizer(),
        KNeighborsClassifier())``). With ``tta`` set, they are averaged over the same views
        as ``predict_proba``. The module must define ``embed(x)``, as
        :class:`fersk.backbones.FERNet` and every registered backbone do.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels)
            Images, pixel values 0-255, like those given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float32

        Examples
        --------
        >>> from fersk import CNNClassifier, make_faces
        >>> X, y = make_faces(70, image_size=32, random_state=0)
        >>> clf = CNNClassifier(max_epochs=1, module__channels=(8, 16), random_state=0).fit(X, y)
        >>> clf.transform(X[:3]).shape
        (3, 16)
        """
        check_is_fitted(self, "module_")
        if not callable(getattr(self.module_, "embed", None)):
            raise ValueError(
                f"transform needs the module to define embed(x), the features its head takes in; "
                f"{type(self.module_).__name__} does not"
            )
        return self._over_views(self._to_tensors(self._validate_predict(X)), lambda net, v: net.embed(v))

    def get_feature_names_out(self, input_features=None):
        """Names of the features :meth:`transform` gives, ``embed0`` to ``embed{n-1}``.

        They let ``set_output(transform="pandas")`` and Pipelines name the network's features.

        Parameters
        ----------
        input_features : ignored
            Present for scikit-learn's API: the features are not named after pixels.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "module_")
        h, w, c = self.image_shape_
        self.module_.eval()
        with torch.no_grad():
            n_features = self.module_.embed(torch.zeros(1, c, h, w, device=self.device_)).shape[1]
        return feature_names("embed", n_features)

    def predict(self, X):
        """Predicted labels: the most probable class, after the prior shift if there is one."""
        proba = self.predict_proba(X)
        if self._scores_indices(X):  # skorch's callbacks: labels are class indices
            return proba.argmax(axis=1)
        return self.classes_[proba.argmax(axis=1)]

    def _scores_indices(self, X):
        # skorch's scoring callbacks (EpochScoring("f1_macro"), or scoring=None for score) score
        # the datasets of the fit's epochs, whose labels are class indices; no other data is
        return any(X is dataset for dataset in self.__dict__.get("epoch_datasets_", ()) if dataset is not None)

    @property
    def classes_(self):
        # skorch treats attributes not ending in "_" as parameters, hence this name
        if "fitted_classes_" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} is not fitted yet: it has no classes_")
        return self.fitted_classes_

    @classes_.setter
    def classes_(self, value):
        self.fitted_classes_ = value


def _arrays(dataset):
    """The images and labels of a skorch ``Dataset``, or of a torch ``Subset`` of one."""
    if isinstance(dataset, torch.utils.data.Subset):
        images, labels = _arrays(dataset.dataset)
        return images[dataset.indices], labels[dataset.indices]
    images = dataset.X["X"] if isinstance(dataset.X, dict) else dataset.X  # weighted: the images alone
    return images, dataset.y
