"""fersk: facial expression recognition in the scikit-learn style."""

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

__version__ = "0.1.0"

__all__ = [
    "EMOTIONS",
    "FerskDataWarning",
    "canonical_emotion",
    "default_cache_dir",
    "load_fer2013",
    "load_image_folder",
    "load_labeled_images",
    "make_faces",
]
