"""A registry of backbones with one contract: head, grayscale input, resizing, normalisation."""

import fnmatch
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ._weights import load_weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_REGISTRY = {}


@dataclass(frozen=True)
class BackboneSpec:
    """What the factory needs to know about one backbone.

    ``build(weights)`` returns ``(body, n_features, stages)``: the network with its
    classifier removed, the width of its features, and its stages from input to
    output (fine-tuning unfreezes them from the end). ``torchvision_name`` names the
    torchvision weights for ``weights="imagenet"``.
    """

    name: str
    build: object
    input_size: int
    torchvision_name: str = None
    cam_layer: object = None


def register_backbone(name, *, input_size=224, torchvision_name=None, cam_layer=None):
    """Decorate a builder ``build() -> (body, n_features, stages)`` to register it.

    ``cam_layer(body)`` picks the layer Grad-CAM explains by default: the last one
    with a spatial output. By default it is the last stage.
    """

    def decorator(build):
        _REGISTRY[name] = BackboneSpec(name, build, input_size, torchvision_name, cam_layer)
        return build

    return decorator


def list_backbones(pattern="*"):
    """Names of the registered backbones, sorted.

    Parameters
    ----------
    pattern : str, default="*"
        A glob pattern on the names.

    Returns
    -------
    list of str

    Examples
    --------
    >>> "resnet18" in list_backbones()
    True
    >>> list_backbones("vgg*")
    ['vgg16', 'vgg19']
    """
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


class BackboneNet(nn.Module):
    """A backbone with a new head, for images of any channel count in [0, 1].

    Grayscale input is repeated to three channels, which keeps the pretrained first
    convolution intact. Input is resized to ``input_size`` (None keeps the size it
    comes in, ``"native"`` takes the backbone's own, 224 for the torchvision ones)
    and normalised with ImageNet statistics.
    """

    def __init__(self, spec, n_classes, *, weights=None, head="linear", dropout=0.5, hidden=256, input_size=None):
        super().__init__()
        self.name = spec.name
        self.body, n_features, stages = spec.build()
        if weights is not None:
            load_weights(spec, self.body, weights)
        self.stages = stages
        self.input_size = spec.input_size if input_size == "native" else input_size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        if head == "linear":
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_features, n_classes))
        elif head == "mlp":  # Linear-BN-ReLU-Dropout-Linear, the VGG19 report's head
            self.head = nn.Sequential(
                nn.Linear(n_features, hidden),
                nn.BatchNorm1d(hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(hidden, n_classes),
            )
        else:
            raise ValueError(f"head must be 'linear' or 'mlp', got {head!r}")
        self._frozen_stages = 0

    def embed(self, x):
        """The body's features of images ``x``: the head's input, (n, n_features)."""
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] != 3:
            raise ValueError(f"{self.name} takes 1 or 3 channels, got {x.shape[1]}")
        if self.input_size and x.shape[-1] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        return self.body((x - self.mean) / self.std)

    def forward(self, x):
        return self.head(self.embed(x))

    @property
    def cam_layer(self):
        """The layer Grad-CAM explains by default: the last one with a spatial output."""
        pick = _REGISTRY[self.name].cam_layer
        return pick(self.body) if pick else self.stages[-1]

    def set_trainable_stages(self, n):
        """Train the head and the last ``n`` stages ("all" for every stage); freeze the rest.

        BatchNorm layers in frozen stages keep their running statistics, also in
        ``train()`` mode.
        """
        n = len(self.stages) if n == "all" else int(n)
        self._frozen_stages = len(self.stages) - min(n, len(self.stages))
        for i, stage in enumerate(self.stages):
            for p in stage.parameters():
                p.requires_grad_(i >= self._frozen_stages)
        self.train(self.training)
        return self

    def train(self, mode=True):
        super().train(mode)
        for stage in self.stages[: self._frozen_stages]:
            for m in stage.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


def create_backbone(name, n_classes, **kwargs):
    """Build a registered backbone with a new ``n_classes`` head.

    Parameters
    ----------
    name : str
        A name from :func:`list_backbones`.
    n_classes : int
        Outputs of the new head.
    **kwargs
        ``weights`` (None, ``"imagenet"``, ``"fer2013"`` for the model fersk ships, or
        the path of a state dict or a fersk model file),
        ``head`` (``"linear"`` or ``"mlp"``), ``dropout``, ``hidden``, ``input_size``.

    Returns
    -------
    BackboneNet

    Examples
    --------
    >>> import torch
    >>> net = create_backbone("fernet", n_classes=7)
    >>> net(torch.rand(2, 1, 48, 48)).shape
    torch.Size([2, 7])
    """
    if name not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown backbone {name!r}{hint} Registered: {list_backbones()}")
    return BackboneNet(_REGISTRY[name], n_classes, **kwargs)
