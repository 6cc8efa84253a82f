"""Checkpoint and resume: the whole training state in one file, replaced atomically after every epoch.

skorch's own ``Checkpoint``/``LoadInitState`` pair writes parameters, optimizer and
history to separate files, one after the other, and restores neither the state of
early stopping nor the learning-rate schedule; a kill between two of its writes leaves
a set that does not belong together, and a resumed run takes a different path from an
uninterrupted one. This callback writes one checksummed archive through a temporary
file and ``os.replace`` (see ``fersk._archive``), so the file on disk is always a
complete epoch, and it restores everything a seeded run needs to continue exactly where
it stopped. No random state is stored or restored: a seeded fit draws each epoch's
random numbers from generators seeded by ``(random_state, epoch)`` (see
``fersk.training._random``), so the history's length is all it needs, and a resume
leaves the process's global generators as they were.
"""

import json
from pathlib import Path

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
    the state of early stopping, the learning-rate schedule, the weight average and the
    time budget, a fingerprint of the training data, and the epochs
    the fit had done when it began (``warm_start`` and ``partial_fit`` fits begin after
    the earlier ones): a fit interrupted before its ``max_epochs`` (Ctrl-C, a callback
    raising ``KeyboardInterrupt``) is recorded as unfinished, and resumes to them.

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
        self.start_ = None  # the epochs done before this fit began: its last epoch is start_ + max_epochs
        return self

    def on_train_begin(self, net, **kwargs):
        if self.start_ is None:  # not set by a resuming fit: partial_fit, or a fit without a file yet
            self.start_ = len(net.history)
        if self.pending_ is not None:
            _restore_callbacks(net, self.pending_)
            self.pending_ = None

    def on_epoch_end(self, net, **kwargs):
        self._write(net, complete=False)

    def on_train_end(self, net, **kwargs):
        # early stopping, the time budget or max_epochs ended it: the final weights are the
        # result. Any other stop (Ctrl-C) keeps the last epoch's file, so that fit resumes.
        try:
            if net.history and _finished(net, self.start_):
                self._write(net, complete=True)
        finally:
            self.start_ = None

    def _write(self, net, complete):
        write_checkpoint(
            net, self.path, self.fingerprint_, complete=complete, settings=self.settings_, epochs_before=self.start_
        )


def _finished(net, start):
    """Whether the fit that began after ``start`` epochs ended by itself, not by an interruption."""
    if len(net.history) >= (start or 0) + net.max_epochs or net.history[-1].get("time_budget_stop"):
        return True
    return any(isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience for _, cb in net.callbacks_)


def write_checkpoint(net, path, fingerprint, complete, settings=None, epochs_before=0):
    """Write ``net``'s training state to ``path`` atomically; returns the path.

    ``settings`` maps the parameters that shape the training to hashes of their values, so that
    only a fit with the same values resumes from the file. ``epochs_before`` is the number of
    epochs done before the fit that writes it began (a ``warm_start`` fit's), and ``complete``
    whether that fit ended by itself (its ``max_epochs``, early stopping, a time budget).
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
    manifest = {
        "kind": KIND,
        "estimator": type(net).__name__,
        "fingerprint": fingerprint,
        "settings": settings,
        "complete": bool(complete),
        "epochs_before": int(epochs_before or 0),
        "history": json.loads(json.dumps(net.history.to_list(), default=float)),
    }
    members = {
        "module.pt": tensors_to_bytes({k: v.cpu() for k, v in net.module_.state_dict().items()}),
        "optimizer.pt": tensors_to_bytes(net.optimizer_.state_dict()),
        "callbacks.pt": tensors_to_bytes(callbacks),
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
    # what a write killed before its rename left behind: fersk._atomic's temporary names,
    # ".run.ckpt.<random>.tmp.ckpt" (and ".run.ckpt.<random>.tmp" from older versions)
    for stale in path.parent.glob(f".{path.name}.*.tmp{path.suffix}"):
        stale.unlink(missing_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
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
    """Put the network, optimizer and history of ``state`` back into ``net``.

    No global random generator is touched (files written by older versions hold their
    states; they are not restored). Returns the callback states, which the caller hands to
    :class:`EpochCheckpoint` to restore after the callbacks' own ``on_train_begin``.
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
