"""Torch modules: the default FER CNN and a registry of transfer-learning backbones."""

from . import _torchvision  # noqa: F401  (registers the torchvision backbones)
from ._cnn import FERNet
from ._gated import GatedExperts
from ._inference import fold_batchnorm, inference_module
from ._registry import BackboneNet, create_backbone, list_backbones, register_backbone

__all__ = [
    "BackboneNet",
    "FERNet",
    "GatedExperts",
    "create_backbone",
    "fold_batchnorm",
    "inference_module",
    "list_backbones",
    "register_backbone",
]
