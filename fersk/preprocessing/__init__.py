"""scikit-learn transformers for face images, and the image convention's helpers."""

from ._faces import FaceCropper, crop_faces
from ._hog import HOGTransformer
from ._images import check_fitted_rows, check_image_shape, feature_names, flatten_images, infer_image_shape, to_images

__all__ = [
    "FaceCropper",
    "HOGTransformer",
    "check_fitted_rows",
    "check_image_shape",
    "crop_faces",
    "feature_names",
    "flatten_images",
    "infer_image_shape",
    "to_images",
]
