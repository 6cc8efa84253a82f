"""Training recipes: augmentation policies, losses, callbacks and test-time augmentation."""

from ._augment import POLICIES, augment_batch, mix_batch
from ._callbacks import TimeBudget, TwoPhaseFineTuning, WeightAveraging
from ._checkpoint import EpochCheckpoint
from ._losses import FocalLoss
from ._tta import TTA_POLICIES, tta_views

__all__ = [
    "POLICIES",
    "TTA_POLICIES",
    "EpochCheckpoint",
    "FocalLoss",
    "TimeBudget",
    "TwoPhaseFineTuning",
    "WeightAveraging",
    "augment_batch",
    "mix_batch",
    "tta_views",
]
