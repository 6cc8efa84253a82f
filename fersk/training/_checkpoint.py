"""Checkpoint and resume: the whole training state in one file, replaced atomically after every epoch.

skorch's own ``Checkpoint``/``LoadInitState`` pair writes parameters, optimizer and
history to separate files, one after the other, and restores neither the random
number generators nor the state of early stopping and the learning-rate schedule; a
kill between two of its writes leaves a set that does not belong together, and a
resumed run takes a different path from an uninterrupted one. This callback writes
one checksummed archive through a temporary file and ``os.replace`` (see
``fersk._archive``), so the file on disk is always a complete epoch, and it restores
everything a seeded CPU run needs to continue exactly where it stopped.
"""

import json
import random
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, LRScheduler

from .._archive import read_archive, tensors_from_bytes, tensors_to_bytes, write_archive
from ._callbacks import TimeBudget, WeightAveraging

KIND = "checkpoint"
_EARLY_STOPPING_STATE = ("misses_", "dynamic_threshold_", "best_epoch_")


class EpochCheckpoint(Callback):
    """Write the complete training state to ``path`` after every epoch.

    The neural estimators add this callback when their ``checkpoint`` parameter is
    set, and their ``fit`` resumes from the file it finds there; use that parameter
    rather than this class. The file holds the network, the optimizer, the history,
    the random-number generators, the state of early stopping, the learning-rate
    schedule and the time budget, and a fingerprint of the training data.

    Parameters
    ----------
    path : str or Path
        The checkpoint file.
    """

    def __init__(self, path):
        self.path = path

    def initialize(self):
        self.fingerprint_ = None
        self.settings_ = None  # hashes of the parameters that shape the training
        self.pending_ = None  # callback states to restore once their on_train_begin has reset them
        return self

    def on_train_begin(self, net, **kwargs):
        if self.pending_ is not None:
            _restore_callbacks(net, self.pending_)
            self.pending_ = None

    def on_epoch_end(self, net, **kwargs):
        write_checkpoint(net, self.path, self.fingerprint_, complete=False, settings=self.settings_)

    def on_train_end(self, net, **kwargs):
        # early stopping, the time budget or max_epochs ended it: the final weights are the
        # result. Any other stop (Ctrl-C) keeps the last epoch's file, so that fit resumes.
        if _finished(net):
            write_checkpoint(net, self.path, self.fingerprint_, complete=True, settings=self.settings_)


def _finished(net):
    if len(net.history) >= net.max_epochs or net.history[-1].get("time_budget_stop"):
        return True
    return any(isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience for _, cb in net.callbacks_)


def write_checkpoint(net, path, fingerprint, complete, settings=None):
    """Write ``net``'s training state to ``path`` atomically; returns the path.

    ``settings`` maps the parameters that shape the training to hashes of their values, so that
    only a fit with the same values resumes from the file.
    """
    callbacks = {}
    for name, cb in net.callbacks_:
        if isinstance(cb, EarlyStopping):
            state = {key: float(getattr(cb, key)) for key in _EARLY_STOPPING_STATE}
            if cb.best_model_weights_ is not None:
                state["best_model_weights_"] = {k: v.cpu() for k, v in cb.best_model_weights_.items()}
            callbacks[name] = state
        elif isinstance(cb, LRScheduler) and hasattr(cb.lr_scheduler_, "state_dict"):
            callbacks[name] = {"lr_scheduler": cb.lr_scheduler_.state_dict()}
        elif isinstance(cb, TimeBudget):
            callbacks[name] = {"elapsed": cb.elapsed()}
        elif isinstance(cb, WeightAveraging):
            callbacks[name] = cb.state()
    # the legacy global generators too: user code and older libraries still draw from them
    _, key, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002
    rng = {"torch": torch.get_rng_state(), "numpy": torch.from_numpy(key.astype(np.int64))}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    manifest = {
        "kind": KIND,
        "estimator": type(net).__name__,
        "fingerprint": fingerprint,
        "settings": settings,
        "complete": bool(complete),
        "history": json.loads(json.dumps(net.history.to_list(), default=float)),
        "numpy_rng": [int(pos), int(has_gauss), float(gauss)],
        "python_rng": random.getstate(),
    }
    members = {
        "module.pt": tensors_to_bytes({k: v.cpu() for k, v in net.module_.state_dict().items()}),
        "optimizer.pt": tensors_to_bytes(net.optimizer_.state_dict()),
        "callbacks.pt": tensors_to_bytes(callbacks),
        "rng.pt": tensors_to_bytes(rng),
    }
    return write_archive(path, manifest, members, compress=False)


def read_checkpoint(path, net, fingerprint, settings=None):
    """Read the checkpoint at ``path`` for ``net``; None when there is none yet.

    Raises
    ------
    ValueError
        When the file is corrupted, is not a checkpoint, or was written by another
        estimator, for other training data, or with other ``settings`` (files written before
        checkpoints held them are not checked for these).
    """
    path = Path(path)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink()  # what a write killed before its rename left behind
    if not path.exists():
        return None
    manifest, members = read_archive(path)
    if manifest.get("kind") != KIND:
        raise ValueError(f"{path} is a fersk model file, not a training checkpoint; choose another checkpoint path")
    one_fit = (
        "a checkpoint file holds one fit, and a search or cross-validation makes many: give checkpoint= "
        "to the final fit only"
    )
    if manifest["estimator"] != type(net).__name__ or manifest["fingerprint"] != fingerprint:
        raise ValueError(
            f"the checkpoint {path} was written by a {manifest['estimator']} fitted on other data; "
            f"delete it to start afresh, or choose another checkpoint path ({one_fit})"
        )
    written = manifest.get("settings")
    if settings is not None and written is not None and written != settings:
        changed = sorted(k for k in written.keys() | settings.keys() if written.get(k) != settings.get(k))
        raise ValueError(
            f"the checkpoint {path} was written by a {manifest['estimator']} with other values of "
            f"{', '.join(changed)}, and resuming it would give that model for this one; delete it to start "
            f"afresh, or choose another checkpoint path ({one_fit})"
        )
    state = {name[: -len(".pt")]: tensors_from_bytes(data) for name, data in members.items()}
    return {**manifest, **state}


def restore_training_state(net, state):
    """Put the network, optimizer, history and random generators of ``state`` back into ``net``.

    Returns the callback states, which the caller hands to :class:`EpochCheckpoint`
    to restore after the callbacks' own ``on_train_begin``.
    """
    try:
        net.module_.load_state_dict(state["module"])
        net.optimizer_.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ValueError(
            f"the checkpoint does not fit this network ({str(exc).splitlines()[0]}); were its module "
            "parameters changed? Delete the checkpoint to start afresh"
        ) from None
    net.history.clear()
    net.history.extend(state["history"])
    torch.set_rng_state(state["rng"]["torch"])
    if "cuda" in state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    pos, has_gauss, gauss = state["numpy_rng"]
    key = state["rng"]["numpy"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", key, pos, has_gauss, gauss))  # noqa: NPY002
    version, internal, gauss_next = state["python_rng"]
    random.setstate((version, tuple(internal), gauss_next))
    return state["callbacks"]


def _restore_callbacks(net, states):
    for name, cb in net.callbacks_:
        state = states.get(name)
        if state is None:
            continue
        if isinstance(cb, EarlyStopping):
            cb.misses_ = int(state["misses_"])
            cb.dynamic_threshold_ = state["dynamic_threshold_"]
            cb.best_epoch_ = int(state["best_epoch_"])
            cb.best_model_weights_ = state.get("best_model_weights_")
        elif isinstance(cb, LRScheduler):
            cb.lr_scheduler_.load_state_dict(state["lr_scheduler"])
        elif isinstance(cb, TimeBudget):
            cb.resume(state["elapsed"])
        elif isinstance(cb, WeightAveraging):
            cb.restore(state)
