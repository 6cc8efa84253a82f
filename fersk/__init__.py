"""fersk: facial expression recognition in the scikit-learn style."""

from .backbones import create_backbone, list_backbones
from .classifiers import CNNClassifier, HOGSVMClassifier, TransferClassifier
from .datasets import (
    EMOTIONS,
    FerskDataWarning,
    canonical_emotion,
    default_cache_dir,
    load_fer2013,
    load_image_folder,
    load_labeled_images,
    make_faces,
)
from .io import load, load_pretrained, pretrained_path, save
from .preprocessing import FaceCropper, HOGTransformer

__version__ = "0.1.0"

__all__ = [
    "CNNClassifier",
    "EMOTIONS",
    "FaceCropper",
    "FerskDataWarning",
    "HOGSVMClassifier",
    "HOGTransformer",
    "TransferClassifier",
    "canonical_emotion",
    "create_backbone",
    "default_cache_dir",
    "list_backbones",
    "load",
    "load_fer2013",
    "load_image_folder",
    "load_labeled_images",
    "load_pretrained",
    "make_faces",
    "pretrained_path",
    "save",
]
