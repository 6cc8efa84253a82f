"""Loaders for the formats facial-expression datasets ship in, and synthetic faces."""

from ._cache import default_cache_dir
from ._dataset import FORMATS, load_dataset, train_test_parts
from ._decode import FerskDataWarning, decode_images
from ._fer2013 import load_fer2013
from ._folders import load_image_folder
from ._labeled import load_labeled_images
from ._synthetic import make_faces
from ._vocabulary import EMOTIONS, canonical_emotion

__all__ = [
    "EMOTIONS",
    "FORMATS",
    "FerskDataWarning",
    "canonical_emotion",
    "decode_images",
    "default_cache_dir",
    "load_dataset",
    "load_fer2013",
    "load_image_folder",
    "load_labeled_images",
    "make_faces",
    "train_test_parts",
]
