"""Losses for imbalanced facial-expression data."""

import torch
from torch import nn
from torch.nn import functional as F


class FocalLoss(nn.Module):
    """Focal loss (Lin et al., 2017) on logits, with class weights and label smoothing.

    ``gamma=0`` gives plain (weighted, smoothed) cross-entropy. Class weights weigh
    whole samples: without smoothing this is ``nn.CrossEntropyLoss(weight=...)``.

    Examples
    --------
    >>> import torch
    >>> logits, target = torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([0, 1])
    >>> bool(FocalLoss(gamma=2.0)(logits, target) < nn.CrossEntropyLoss()(logits, target))
    True
    """

    def __init__(self, weight=None, gamma=2.0, label_smoothing=0.0):
        super().__init__()
        if not gamma >= 0:
            raise ValueError(f"gamma must be 0 or more (0 is cross-entropy, 2 the usual focal loss); got {gamma!r}")
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}")
        self.register_buffer("weight", weight)
        self.gamma = gamma
        self.label_smoothing = label_smoothing

    def forward(self, logits, target, sample_weight=None):
        """Weighted mean loss of a batch; ``sample_weight`` multiplies the class weights."""
        log_p = F.log_softmax(logits, dim=1)
        n_classes = logits.shape[1]
        soft = F.one_hot(target, n_classes).to(log_p.dtype)
        soft = soft * (1 - self.label_smoothing) + self.label_smoothing / n_classes
        focal = (1 - log_p.exp()).pow(self.gamma)
        per_sample = (-soft * focal * log_p).sum(dim=1)
        if self.weight is None and sample_weight is None:
            return per_sample.mean()
        # a class weight weighs the samples of that class, smoothing terms included; weighing the
        # smoothing term of each class instead (as nn.CrossEntropyLoss does) pushes every sample
        # towards the rarest classes when their weights are large
        weight = torch.ones_like(per_sample) if self.weight is None else self.weight[target]
        if sample_weight is not None:
            weight = weight * sample_weight.to(weight.dtype)
        # a batch whose weights are all 0 contributes nothing (rather than 0/0)
        return (per_sample * weight).sum() / weight.sum().clamp_min(torch.finfo(weight.dtype).tiny)
