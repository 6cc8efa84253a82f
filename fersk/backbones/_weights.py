"""Weights for the registered backbones: torchvision's ImageNet weights, the models fersk ships,
state-dict files and fersk model files. The registry (``_registry.py``) keeps names and configs."""

import pickle
import urllib.error
import zipfile
from pathlib import Path

import torch

from .._archive import is_fersk_file, read_module_state
from .._pretrained import PRETRAINED, pretrained_path, shipped_name


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


def load_weights(spec, body, weights):
    """Fill ``body`` from ``weights``: "imagenet", a shipped model's name, a state-dict file or a fersk model.

    From a model of gated experts (``fer2013-muxspace``), the last expert's backbone.
    """
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
        experts = sorted({int(k.split(".")[1]) for k in state if k.startswith("experts.")})
        if experts:  # GatedExperts: the last expert's backbone (fer2013-muxspace's photos expert)
            prefix = f"experts.{experts[-1]}."
            state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
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
