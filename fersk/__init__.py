"""fersk: facial expression recognition in the scikit-learn style.

The public names are imported on first use (PEP 562), so ``import fersk`` and
``import fersk.preprocessing`` do not load torch. That matters where fersk is
imported many times: each joblib worker of ``HOGTransformer(n_jobs=2)`` or of a
loader imports the module its task lives in, and loading torch there took longer
than the HOG extraction it was started for.
"""

import importlib

__version__ = "0.1.0"

# public name -> the subpackage or module that defines it: what the README and the guide use. Plumbing stays in
# its submodule (fersk.datasets.default_cache_dir, fersk.io.pretrained_path, fersk.backbones.create_backbone), and
# explain is fersk.explain.explain: a top-level explain would be shadowed by the subpackage fersk.explain, once
# anything imports it.
_EXPORTS = {
    "adapt_pretrained": "classifiers",
    "analyze_faces": "faces",
    "analyze_video": "video",
    "calibrate": "classifiers",
    "canonical_emotion": "datasets",
    "CNNClassifier": "classifiers",
    "crop_faces": "preprocessing",
    "detect_faces": "faces",
    "draw_faces": "faces",
    "EMOTIONS": "datasets",
    "evaluate": "evaluation",
    "export_onnx": "_export",
    "Face": "faces",
    "FaceCropper": "preprocessing",
    "FaceRecords": "faces",
    "FerskDataWarning": "exceptions",
    "FrameRecord": "video",
    "gate_experts": "classifiers",
    "HOGSVMClassifier": "classifiers",
    "HOGTransformer": "preprocessing",
    "list_backbones": "backbones",
    "list_detectors": "faces",
    "load": "io",
    "load_dataset": "datasets",
    "load_fer2013": "datasets",
    "load_image_folder": "datasets",
    "load_labeled_images": "datasets",
    "load_pretrained": "io",
    "make_faces": "datasets",
    "read_image": "faces",
    "save": "io",
    "TransferClassifier": "classifiers",
    "VideoRecords": "video",
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
