"""Prediction and features: the network with its BatchNorm folded, averaged over test-time views."""

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ...backbones import inference_module
from ...preprocessing import feature_names
from ...training import tta_views


class PredictMixin(TransformerMixin):
    """``predict_proba``, ``predict``, ``transform`` and the names of the features it gives.

    A ``TransformerMixin``: scikit-learn wraps ``transform`` for ``set_output`` in the class that
    defines it, this one.
    """

    def predict_proba(self, X, *, return_experts=False):
        """Class probabilities, columns in the order of ``classes_``.

        With ``tta`` set, the probabilities are averaged over the augmented views
        (see :func:`fersk.training.tta_views`). With a prior shift (``prior_shift_``
        above 0), they are the network's probabilities divided by the training class
        frequencies to that power and renormalised: the posterior the network would
        give were the classes more evenly frequent than in training.
        Calibrated by :func:`fersk.calibrate`, they are last taken to its temperature
        (``softmax(log(p) / temperature_)``), which leaves each image's most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels) or image-shaped
            Images, pixel values 0-255, like those given to ``fit``.
        return_experts : bool, default=False
            For a network of experts mixed by a gate (:class:`fersk.backbones.GatedExperts`):
            also return the expert each image's gate weighs most (over the ``tta`` views),
            from the same forward passes. Its prediction sets are drawn per expert
            (:meth:`predict_sets`).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        experts : ndarray of int, shape (n_samples,)
            Only with ``return_experts=True``.
        """
        check_is_fitted(self, "module_")
        if return_experts:
            return self._proba_and_experts(X)
        if self._scores_indices(X):
            return self._dataset_proba(X)
        if isinstance(X, torch.utils.data.Dataset):
            raise TypeError(
                f"X is a torch Dataset ({type(X).__name__}); fersk's networks predict images given as an "
                "array, one flattened image per row with pixel values 0-255, as fit takes them: give the "
                "dataset's images as one (e.g. np.stack([image for image, _ in dataset]))"
            )
        proba = self._proba(self._to_tensors(self._validate_predict(X)), shift=self.prior_shift_)
        return self._tempered(proba)  # temperature_ from fersk.calibrate: each row keeps its argmax

    def _proba_and_experts(self, X):
        if not callable(getattr(self.module_, "gate_weights", None)):
            raise ValueError(
                f"return_experts=True needs a network of experts mixed by a gate (GatedExperts, as "
                f"fersk.gate_experts makes); this one is a {type(self.module_).__name__}"
            )
        images = self._to_tensors(self._validate_predict(X))
        n = len(self.classes_)

        def both(net, v):
            tempered, _, gate = net(v, with_gate=True)
            return torch.cat([torch.softmax(tempered, dim=1), gate], dim=1)

        out = self._over_views(images, both)
        return self._tempered(self._shifted(out[:, :n], self.prior_shift_)), out[:, n:].argmax(axis=1)

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
        """Predicted labels: the most probable class, after the prior shift if there is one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels) or image-shaped
            Images, pixel values 0-255, like those given to ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        if self._scores_indices(X):  # skorch's callbacks: labels are class indices
            return proba.argmax(axis=1)
        return self.classes_[proba.argmax(axis=1)]

    def _scores_indices(self, X):
        # skorch's scoring callbacks (EpochScoring("f1_macro"), or scoring=None for score) score
        # the datasets of the fit's epochs, whose labels are class indices; no other data is
        return any(X is dataset for dataset in self.__dict__.get("epoch_datasets_", ()) if dataset is not None)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # features are float32 whatever the pixels
        return tags
