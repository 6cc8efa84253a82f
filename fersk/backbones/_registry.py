"""A registry of backbones with one contract: head, grayscale input, resizing, normalisation."""

import fnmatch
import pickle
import urllib.error
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .._archive import is_fersk_file, read_module_state
from .._pretrained import PRETRAINED, pretrained_path, shipped_name

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


def _imagenet_state_dict(spec):
    """Torchvision's ImageNet weights, from the local cache or the internet."""
    from torchvision.models import get_model_weights

    weights = get_model_weights(spec.torchvision_name).DEFAULT
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    try:
        return weights.get_state_dict(progress=False, check_hash=False)
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        raise RuntimeError(
            f"could not get ImageNet weights for {spec.name!r} ({exc}). Offline, download "
            f"{weights.url} elsewhere and put it at {cached} (set TORCH_HOME to move that "
            "folder), or pass weights='path/to/state_dict.pth', or weights=None to train "
            "from random weights."
        ) from None


def _load_weights(spec, body, weights):
    """Fill ``body`` from ``weights``: "imagenet", a shipped model's name, a state-dict file or a fersk model."""
    source = None  # the backbone a fersk model file says its weights are of
    if weights == "imagenet":
        if spec.torchvision_name is None:
            raise ValueError(f"backbone {spec.name!r} has no ImageNet weights; use weights=None")
        state = _imagenet_state_dict(spec)
    else:
        name = shipped_name(weights)
        path = pretrained_path(name) if name else Path(weights)
        if not path.is_file():
            raise ValueError(
                f"weights={str(weights)!r} is neither 'imagenet', the name of a model fersk ships "
                f"({', '.join(sorted(PRETRAINED))}), None nor an existing file"
            )
        state, source = read_module_state(path) if is_fersk_file(path) else (_read_state_dict(path), None)
        if any(key.startswith("body.") for key in state):  # a backbone fersk trained
            state = {k[len("body.") :]: v for k, v in state.items() if k.startswith("body.")}
    misfit = f"the weights in {str(weights)!r} do not fit backbone {spec.name!r}"
    if source not in (None, spec.name):
        misfit += f" (they are a {source!r} backbone's: pass backbone={source!r})"
    try:
        missing, unexpected = body.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # keys that match, with tensors of other shapes
        raise ValueError(f"{misfit}: {str(exc).splitlines()[-1].strip()}") from None
    unexpected = [k for k in unexpected if not _is_classifier_key(k)]
    if missing or unexpected:
        raise ValueError(
            f"{misfit}: {len(missing)} missing keys (e.g. {missing[:2]}), {len(unexpected)} unexpected "
            f"(e.g. {unexpected[:2]})"
        )


_UNREADABLE = (
    "torch.load cannot read {path} ({exc}); pass a file of torch.save(model.state_dict(), path), "
    "a .fersk model file, 'imagenet' or None"
)


def _read_state_dict(path):
    """A file of ``torch.save(model.state_dict(), path)``, read without running pickle code."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        if not zipfile.is_zipfile(path):  # torch.save has written zip archives since torch 1.6
            raise ValueError(_UNREADABLE.format(path=path, exc="not a file torch.save wrote")) from None
        raise ValueError(
            f"{path} holds more than tensors (a whole pickled model?), and fersk does not unpickle "
            "it, because unpickling runs code from the file; save its weights with "
            "torch.save(model.state_dict(), path)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - torch reports a non-torch file as anything from KeyError to RuntimeError
        raise ValueError(_UNREADABLE.format(path=path, exc=f"{type(exc).__name__}: {exc}")) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(
            f"{path} holds a {type(state).__name__}, not a state dict of tensors; save one with "
            "torch.save(model.state_dict(), path)"
        )
    return state


def _is_classifier_key(key):
    return key.split(".")[0] in {"fc", "classifier", "head"}


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
            _load_weights(spec, self.body, weights)
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
    >>> net = create_backbone("test_tiny", n_classes=7)
    >>> net(torch.rand(2, 1, 48, 48)).shape
    torch.Size([2, 7])
    """
    if name not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown backbone {name!r}{hint} Registered: {list_backbones()}")
    return BackboneNet(_REGISTRY[name], n_classes, **kwargs)
