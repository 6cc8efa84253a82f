"""Loaders for the formats facial-expression datasets ship in, and synthetic faces."""

from ..exceptions import FerskDataWarning
from ._cache import default_cache_dir
from ._dataset import FORMATS, load_dataset, train_test_parts
from ._decode import IMAGE_EXTENSIONS, count_frames, decode_images, read_image_file, upright_image
from ._fer2013 import load_fer2013
from ._folders import load_image_folder
from ._labeled import load_labeled_images
from ._synthetic import make_faces
from ._vocabulary import EMOTIONS, canonical_emotion

__all__ = [
    "EMOTIONS",
    "FORMATS",
    "IMAGE_EXTENSIONS",
    "FerskDataWarning",
    "canonical_emotion",
    "count_frames",
    "decode_images",
    "default_cache_dir",
    "load_dataset",
    "load_fer2013",
    "load_image_folder",
    "load_labeled_images",
    "make_faces",
    "read_image_file",
    "train_test_parts",
    "upright_image",
]
