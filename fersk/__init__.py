"""fersk: facial expression recognition in the scikit-learn style.

The public names are imported on first use (PEP 562), so ``import fersk`` and
``import fersk.preprocessing`` do not load torch. That matters where fersk is
imported many times: each joblib worker of ``HOGTransformer(n_jobs=2)`` or of a
loader imports the module its task lives in, and loading torch there took longer
than the HOG extraction it was started for.
"""

import importlib

__version__ = "0.1.0"

# public name -> the subpackage or module that defines it
_EXPORTS = {
    "analyze_video": "video",
    "CNNClassifier": "classifiers",
    "EMOTIONS": "datasets",
    "Face": "faces",
    "FaceCropper": "preprocessing",
    "FerskDataWarning": "exceptions",
    "HOGSVMClassifier": "classifiers",
    "HOGTransformer": "preprocessing",
    "TransferClassifier": "classifiers",
    "analyze_faces": "faces",
    "canonical_emotion": "datasets",
    "create_backbone": "backbones",
    "default_cache_dir": "datasets",
    "export_onnx": "_export",
    "gate_experts": "classifiers",
    "detect_faces": "faces",
    "draw_faces": "faces",
    "list_backbones": "backbones",
    "load": "io",
    "load_fer2013": "datasets",
    "load_image_folder": "datasets",
    "load_labeled_images": "datasets",
    "load_pretrained": "io",
    "make_faces": "datasets",
    "pretrained_path": "_pretrained",
    "read_image": "faces",
    "save": "io",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'fersk' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
