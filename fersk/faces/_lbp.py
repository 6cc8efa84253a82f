"""scikit-image's LBP frontal-face cascade, the light detector: no torch, no landmarks."""

import numpy as np
from PIL import Image

from ._face import Face
from ._image import gray
from ._registry import FaceDetector, register_detector


def lbp_cascade():
    """scikit-image's bundled LBP frontal-face cascade (works offline)."""
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    return Cascade(lbp_frontal_face_cascade_filename())


@register_detector("lbp")
class LBPDetector(FaceDetector):
    """The LBP frontal-face cascade that scikit-image ships: fast, light, finds fewer faces.

    It finds upright frontal faces only, gives no landmarks (``Face.landmarks`` is None)
    and no confidence (``Face.score`` is 1.0).

    Parameters
    ----------
    scale_factor, step_ratio : float, default=1.2, 1.0
        The cascade's search: scale step and window stride (see ``skimage.feature.Cascade``).
    min_size : int, default=24
        Smallest face side searched for, in pixels of the image as searched.
    detect_size : int, default=640
        Images are searched at most this large (longest side), then boxes are mapped back.
    n_jobs : int, optional
        Processes for :meth:`detect_batch` (joblib; -1: all cores).

    Examples
    --------
    >>> from skimage.data import astronaut
    >>> face = LBPDetector().detect(astronaut())[0]
    >>> 150 < face.box[0] < 220 and 50 < face.box[1] < 120, face.landmarks is None
    (True, True)
    """

    def __init__(self, scale_factor=1.2, step_ratio=1.0, min_size=24, detect_size=640, n_jobs=None):
        self.scale_factor = scale_factor
        self.step_ratio = step_ratio
        self.min_size = min_size
        self.detect_size = detect_size
        self.n_jobs = n_jobs

    def _detect_many(self, images):
        cascade = lbp_cascade()
        return [self._detect(image, cascade) for image in images]

    def _detect(self, image, cascade=None):
        luminance = gray(image)
        scale = min(1.0, self.detect_size / max(luminance.shape))
        if scale < 1.0:
            size = (max(1, round(luminance.shape[1] * scale)), max(1, round(luminance.shape[0] * scale)))
            luminance = np.asarray(Image.fromarray(luminance).resize(size, Image.BILINEAR))
        if min(luminance.shape) < self.min_size:
            return []
        found = (cascade or lbp_cascade()).detect_multi_scale(
            luminance / 255.0,
            scale_factor=self.scale_factor,
            step_ratio=self.step_ratio,
            min_size=(self.min_size, self.min_size),
            max_size=luminance.shape,
        )
        return [
            Face(
                (d["c"] / scale, d["r"] / scale, (d["c"] + d["width"]) / scale, (d["r"] + d["height"]) / scale),
                score=1.0,  # the cascade gives no confidence
            )
            for d in found
        ]
