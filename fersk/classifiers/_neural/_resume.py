"""Resuming a fit from its ``checkpoint`` file: which file belongs to which fit, and where it goes on."""

import joblib
import torch

from ...training import read_checkpoint, restore_training_state

# parameters a fit may change and still resume a checkpoint: they do not change the epochs done
# (max_epochs: a killed run may go on for more); callbacks are left out too (instances that hold state)
_RESUMABLE = {"checkpoint", "max_epochs", "verbose", "progress", "device", "warm_start"}


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


class ResumeMixin:
    """``checkpoint``: a fit that finds its file goes on from it."""

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
