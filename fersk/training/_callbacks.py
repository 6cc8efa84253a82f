"""skorch callbacks for fersk's training recipes."""

import time

from skorch.callbacks import Callback


class TimeBudget(Callback):
    """Stop training when the next epoch would end past a wall-clock budget.

    The check runs after each epoch, with the last epoch's duration as the estimate
    of the next. Stopping works as early stopping does, so an ``EarlyStopping``
    with ``load_best=True`` still restores the best weights. How many epochs fit
    depends on the machine's speed at the time; to repeat a run exactly, pass
    ``len(clf.history)`` as ``max_epochs`` and leave the budget out.

    Parameters
    ----------
    seconds : float
        The budget for one ``fit``.

    Examples
    --------
    >>> from fersk import CNNClassifier
    >>> clf = CNNClassifier(callbacks=[("time_budget", TimeBudget(seconds=3600))])
    """

    def __init__(self, seconds):
        self.seconds = seconds

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.monotonic()

    def elapsed(self):
        """Seconds of the budget spent so far."""
        return time.monotonic() - self.start_

    def resume(self, elapsed):
        """Continue a budget of which ``elapsed`` seconds were spent before (checkpoint resume)."""
        self.start_ = time.monotonic() - elapsed

    def on_epoch_end(self, net, **kwargs):
        elapsed = self.elapsed()
        if elapsed + net.history[-1, "dur"] >= self.seconds:  # TimeBudget(0) stops after one epoch, on any clock
            net.history.record("time_budget_stop", True)
            if net.verbose:
                print(
                    f"Stopping after epoch {len(net.history)} ({elapsed:.0f} s): the next epoch would end "
                    f"past the time budget of {self.seconds:.0f} s."
                )
            raise KeyboardInterrupt  # how skorch's own EarlyStopping ends training


class TwoPhaseFineTuning(Callback):
    """Train the head alone first, then unfreeze the last stages of the backbone.

    Phase 1 (epochs ``1..head_epochs``): the backbone is frozen, BatchNorm
    statistics included. Phase 2: the last ``fine_tune_layers`` stages train as
    well, at the lower learning rate of their optimizer parameter group.

    Parameters
    ----------
    head_epochs : int
        Epochs of phase 1; 0 starts with phase 2.
    fine_tune_layers : int or "all"
        Stages unfrozen in phase 2; 0 keeps training the head only.
    """

    def __init__(self, head_epochs, fine_tune_layers):
        self.head_epochs = head_epochs
        self.fine_tune_layers = fine_tune_layers

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        done = len(net.history) - 1 if net.history else 0  # epochs before this fit (warm start)
        phase_two = done >= self.head_epochs
        net.module_.set_trainable_stages(self.fine_tune_layers if phase_two else 0)

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.head_epochs + 1:
            net.module_.set_trainable_stages(self.fine_tune_layers)
        net.history.record("phase", 1 if len(net.history) <= self.head_epochs else 2)


class WeightAveraging(Callback):
    """Keep an exponential moving average of the weights, and validate and finish with it.

    After every training batch the average moves towards the network's weights by
    ``1 - decay`` (torch's ``AveragedModel``; BatchNorm statistics are averaged too).
    From the first validation batch of each epoch until the next epoch begins, the
    network holds the average: validation scores, early stopping, the learning-rate
    schedule, checkpoints and the fitted model all see it, while training continues
    from the raw weights. The average changes more slowly than the weights, so it
    does not jump with the last few batches.

    The neural estimators add it for ``ema=decay``; place it before callbacks that read
    the weights at the end of an epoch.

    Parameters
    ----------
    decay : float
        Weight of the old average at each step; ``1 / (1 - decay)`` is roughly the
        number of recent steps averaged.

    Examples
    --------
    >>> from fersk import CNNClassifier
    >>> clf = CNNClassifier(ema=0.995)  # about the last 200 batches
    """

    def __init__(self, decay):
        self.decay = decay

    def on_train_begin(self, net, **kwargs):
        if not 0.0 < self.decay < 1.0:
            raise ValueError(f"the weight-averaging decay (ema) must lie between 0 and 1, got {self.decay!r}")
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        self.average_ = AveragedModel(net.module_, multi_avg_fn=get_ema_multi_avg_fn(self.decay), use_buffers=True)
        self.raw_weights_ = None  # the raw weights while the network holds the average

    def on_epoch_begin(self, net, **kwargs):
        if self.raw_weights_ is not None:
            net.module_.load_state_dict(self.raw_weights_)
            self.raw_weights_ = None

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.average_.update_parameters(net.module_)

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            self.hold_average(net)

    def on_epoch_end(self, net, **kwargs):
        self.hold_average(net)

    def hold_average(self, net):
        """Put the average into ``net``, keeping its raw weights to train on next epoch."""
        if self.raw_weights_ is None:
            self.raw_weights_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
            net.module_.load_state_dict(self.average_.module.state_dict())

    def state(self):
        """What a checkpoint keeps: the average and the raw weights."""
        raw = self.raw_weights_ or {}
        return {"average": self.average_.state_dict(), "raw": {k: v.cpu() for k, v in raw.items()}}

    def restore(self, state):
        """Continue from :meth:`state`, as written at the end of an epoch."""
        self.average_.load_state_dict(state["average"])
        self.raw_weights_ = dict(state["raw"]) or None
