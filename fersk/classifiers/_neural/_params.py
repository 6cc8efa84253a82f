"""The parameters of fersk's networks: their constraints, their validation, and setting them on a built network.

fersk declares constraints for its own parameters and checks them with scikit-learn's validator,
once per fit (``_fit_context``, which honours ``sklearn.set_config(skip_parameter_validation=True)``);
skorch checks the names (a misspelt ``lrr=`` or ``modul__x``, with its hint for a missing
double underscore) once the network is built and its routes are known.
"""

import os
from numbers import Integral, Real

import torch
from sklearn import get_config
from sklearn.utils._param_validation import Interval, Options, StrOptions, validate_parameter_constraints

from ...training import POLICIES, TTA_POLICIES

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
# skorch's routes to the batch sizes of training and of validation and prediction: -1 is one batch of all
_BATCH_ROUTES = ("iterator_train__batch_size", "iterator_valid__batch_size")
_NON_NEGATIVE = [Interval(Real, 0, None, closed="left")]
_PATIENCE = [Interval(Integral, 0, None, closed="left"), None]


def _same(a, b):
    """Whether two parameter values are the same (values of any type, None included)."""
    try:
        return a is b or bool(type(a) is type(b) and a == b)
    except Exception:  # values whose == is not a bool (arrays)
        return False


class ParametersMixin:
    """Constraints of fersk's parameters, checked by scikit-learn, and ``set_params`` on a built network."""

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
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
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

    # fersk's flat parameters from which initialize() builds skorch's default callbacks
    _CALLBACK_PARAMS = frozenset(
        {"validation_fraction", "train_split", "early_stopping", "lr_schedule", "lr_patience", "max_epochs", "ema"}
        | {"progress", "checkpoint", "head_epochs", "fine_tune_layers"}
    )

    @property
    def _parameter_constraints(self):
        """Each parameter's constraints, as scikit-learn declares them: fersk's own, and the batch sizes
        routed to skorch's iterators (skorch passes them to the ``DataLoader`` unchecked, and fersk batches
        predictions by them too); skorch's other parameters and routes (``module__*``, ``optimizer__*``)
        are skorch's to check."""
        constraints = {**dict.fromkeys(_BATCH_ROUTES, self._fersk_constraints["batch_size"]), **self._fersk_constraints}
        return {name: constraints.get(name, "no_validation") for name in self.get_params(deep=False)}

    def _validate_params(self):
        """Check the parameters; scikit-learn and skorch both call this hook by this name.

        scikit-learn's ``_fit_context`` calls it before ``fit``, for the values: each parameter of
        :attr:`_parameter_constraints` against its constraints. Nested in a fit, and under
        ``sklearn.set_config(skip_parameter_validation=True)``, the values are not checked again.
        skorch calls it at the end of ``initialize`` and in ``set_params`` of a built network, for
        the names: its own check (``NeuralNet._validate_params``), which refuses a name it does not
        know (``lrr=``) and suggests the route meant for a missing double underscore
        (``iterator_train_shuffle`` -> ``iterator_train__shuffle``). It runs once the network is
        built, when the routes (``module__*``, ``criterion__*``) are known.
        """
        if not get_config()["skip_parameter_validation"]:
            validate_parameter_constraints(
                self._parameter_constraints, self.get_params(deep=False), caller_name=type(self).__name__
            )
        if "module_" in self.__dict__:
            super()._validate_params()  # skorch's check of the names

    def _check_weight_decay(self):
        """Refuse ``weight_decay`` and ``optimizer__weight_decay`` set to different values: one way to set it.

        Checked where the optimizer takes them (a fit, ``partial_fit``, building the optimizer), whether or
        not the values are validated: not a constraint of one value, but a conflict between two.
        """
        routed = self.get_params().get("optimizer__weight_decay", self.weight_decay)
        if self.weight_decay and routed != self.weight_decay:
            raise ValueError(
                f"weight_decay={self.weight_decay!r} and optimizer__weight_decay={routed!r} set the same "
                "thing; set one of them (weight_decay is the short name for optimizer__weight_decay)"
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

        Parameters
        ----------
        **params
            Parameters by name, routes included (``module__dropout``, ``callbacks__ema__decay``).

        Returns
        -------
        self
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

    def _routed_params(self):
        """The parameters routed to the network, its loss and its optimizer (``module__*``, ...)."""
        prefixes = ("module__", "criterion__", "optimizer__")
        return {k: v for k, v in self.get_params(deep=False).items() if k.startswith(prefixes)}
