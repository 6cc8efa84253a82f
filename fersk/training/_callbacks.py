"""skorch callbacks for fersk's training recipes."""

from skorch.callbacks import Callback


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
