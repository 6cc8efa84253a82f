"""The prior shift: probabilities moved away from the training class frequencies, and its choice on
the validation set (``prior_shift="auto"``)."""

import numpy as np
import torch
from sklearn.metrics import f1_score

# the shifts prior_shift="auto" chooses from, on the validation set
PRIOR_SHIFTS = np.round(np.linspace(0.0, 1.0, 11), 2)


def _arrays(dataset):
    """The images and labels of a skorch ``Dataset``, or of a torch ``Subset`` of one."""
    if isinstance(dataset, torch.utils.data.Subset):
        images, labels = _arrays(dataset.dataset)
        return images[dataset.indices], labels[dataset.indices]
    images = dataset.X["X"] if isinstance(dataset.X, dict) else dataset.X  # weighted: the images alone
    return images, dataset.y


class PriorShiftMixin:
    """``prior_shift``: applied to the probabilities, and chosen after training when it is ``"auto"``."""

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

    def _shifted(self, proba, shift):
        """Probabilities divided by the training prior to the power ``shift``, renormalised."""
        proba = proba.astype(np.float64)
        if shift:
            proba = proba * self.class_prior_**-shift
        # softmax ran in float32: renormalise in float64 so rows sum to 1 as log_loss expects
        return proba / proba.sum(axis=1, keepdims=True)
