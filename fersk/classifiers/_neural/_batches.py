"""What skorch's training loop runs on, batch by batch: the validation split, the iterators, the
training step with fersk's augmentation and mixing, the loss and the forward pass."""

import contextlib

import numpy as np
import torch
from skorch.dataset import ValidSplit, unpack_data
from skorch.utils import to_tensor

from ...training import augment_batch, mix_batch


class BatchesMixin:
    """skorch's hooks of the training loop (``get_split_datasets``, ``get_iterator``,
    ``train_step_single``, ``get_loss``, ``infer``), with fersk's recipes and a seeded fit's draws."""

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

    def _split(self, y_encoded):
        if not self.validation_fraction or y_encoded is None:
            return None
        counts = np.bincount(y_encoded)
        n_valid = int(np.floor(self.validation_fraction * len(y_encoded)))
        stratified = counts.min() >= 2 and min(n_valid, len(y_encoded) - n_valid) >= len(counts)
        seed = None if self.random_state is None else int(self.random_state)
        return ValidSplit(self.validation_fraction, stratified=stratified, random_state=seed)

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
