"""skorch callbacks for fersk's training recipes."""

import time

from skorch.callbacks import Callback


class TimeBudget(Callback):
    """Stop training when the next epoch would end past a wall-clock budget.

    The check runs after each epoch, with the last epoch's duration as the estimate
    of the next. Stopping works as early stopping does, so an ``EarlyStopping``
    with ``load_best=True`` still restores the best weights.

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
        if elapsed + net.history[-1, "dur"] > self.seconds:
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
