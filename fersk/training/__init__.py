"""Training recipes: augmentation policies, losses, callbacks and test-time augmentation."""

from ._augment import POLICIES, augment_batch, mix_batch
from ._callbacks import TimeBudget, TwoPhaseFineTuning, WeightAveraging
from ._checkpoint import EpochCheckpoint, read_checkpoint, restore_training_state
from ._losses import FocalLoss
from ._random import SeededDraws
from ._tta import TTA_POLICIES, tta_views

__all__ = [
    "POLICIES",
    "TTA_POLICIES",
    "EpochCheckpoint",
    "FocalLoss",
    "SeededDraws",
    "TimeBudget",
    "TwoPhaseFineTuning",
    "WeightAveraging",
    "augment_batch",
    "mix_batch",
    "read_checkpoint",
    "restore_training_state",
    "tta_views",
]
