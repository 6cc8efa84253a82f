"""Where a model looks, as numbers: the share of an attribution map on the eyes and brows, the mouth, elsewhere."""

import numpy as np

from ..faces import FER2013_LANDMARKS

REGIONS = ("eyes_brows", "mouth", "elsewhere")

# The regions, in units of the distance between the eyes (d), along the eye line (u, from the
# left eye to the right) and across it (v, downwards). Eyes and brows: one band from 0.45 d
# outside each eye, from 0.55 d above the eye line (the brows sit about 0.35 d above it in
# FER2013's framing) to 0.25 d below it (the lower lids), the skin between the brows included.
# Mouth: from a quarter of the mouth's width outside each corner, 0.35 d above the corners'
# line to 0.4 d below it: both lips, open or closed. At 48x48 in FER2013's framing the band is
# 34 x 14 pixels and the mouth 22 x 14: together 34% of the face.
EYE_BAND = dict(outside=0.45, above=0.55, below=0.25)
MOUTH_BOX = dict(outside=0.25, above=0.35, below=0.40)


def region_masks(image_shape, landmarks=None):
    """Boolean masks of the eyes and brows, the mouth and the rest of a face.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width)`` of the image (or map); channels, if given, are ignored.
    landmarks : array-like of shape (5, 2), Face, or None
        ``(x, y)`` of the left eye, right eye, nose, left and right mouth corners, in the
        image's pixels (:attr:`fersk.Face.landmarks`: MTCNN's five points, when the map is
        of the image the face was found in). None uses where they typically sit in a face
        framed as FER2013 frames its faces (:data:`fersk.faces.FER2013_LANDMARKS`), which
        is also where :func:`fersk.faces.extract_face` and :class:`fersk.FaceCropper` put them.

    Returns
    -------
    dict
        ``"eyes_brows"``, ``"mouth"``, ``"elsewhere"`` -> bool ndarray of shape (height, width);
        every pixel is in exactly one.

    Examples
    --------
    >>> masks = region_masks((48, 48))
    >>> {name: int(mask.sum()) for name, mask in masks.items()}
    {'eyes_brows': 476, 'mouth': 308, 'elsewhere': 1520}
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    points = _points(landmarks, h, w)
    left_eye, right_eye, _, mouth_left, mouth_right = points
    axis = right_eye - left_eye
    d = float(np.hypot(*axis))
    if d == 0:
        raise ValueError("the landmarks put both eyes on the same point; give a face's five distinct points")
    along = axis / d
    across = np.array([-along[1], along[0]])  # downwards in image coordinates when the face is upright
    ys, xs = np.mgrid[0:h, 0:w]
    pixels = np.stack([xs + 0.5, ys + 0.5], axis=-1)  # pixel centres, as landmarks are in continuous pixels

    def box(origin, length, outside, above, below, scale):
        rel = pixels - origin
        u, v = rel @ along, rel @ across
        return (u >= -outside * scale) & (u <= length + outside * scale) & (v >= -above * d) & (v <= below * d)

    eyes = box(left_eye, d, scale=d, **EYE_BAND)
    mouth_width = float(np.hypot(*(mouth_right - mouth_left)))
    mouth = box(mouth_left, mouth_width, scale=mouth_width, **MOUTH_BOX) & ~eyes
    return {"eyes_brows": eyes, "mouth": mouth, "elsewhere": ~(eyes | mouth)}


def region_shares(attributions, landmarks=None):
    """The share of each map's positive evidence on the eyes and brows, on the mouth and elsewhere.

    Negative attributions (evidence against the class) are left out; each map's positive part
    is summed per region and divided by its total. A map that spread its evidence evenly would
    give each region its share of the face's area (``area`` in the result): a region holds more
    of the evidence than chance where its share is above its area.

    Parameters
    ----------
    attributions : array of shape (n_samples, height, width) or (height, width)
        Maps as :func:`fersk.explain.explain` returns them.
    landmarks : array-like of shape (5, 2) or (n_samples, 5, 2), Face, list of Face, or None
        Each map's five landmarks in its pixels (see :func:`region_masks`); None uses
        FER2013's framing for every map. A Face without landmarks (the LBP cascade) falls
        back to FER2013's framing.

    Returns
    -------
    dict
        ``"eyes_brows"``, ``"mouth"``, ``"elsewhere"`` -> ndarray of shape (n_samples,), the
        shares, summing to 1 per map (NaN for a map with no positive value); ``"area"`` ->
        dict of the same three names -> ndarray (n_samples,), the regions' shares of the image.

    Examples
    --------
    >>> import numpy as np
    >>> heat = np.zeros((48, 48))
    >>> heat[35:40, 18:30] = 1.0  # evidence on the lips only
    >>> shares = region_shares(heat)
    >>> float(shares["mouth"][0]), float(shares["eyes_brows"][0])
    (1.0, 0.0)
    >>> round(float(region_shares(np.ones((48, 48)))["eyes_brows"][0]), 3)  # even evidence: the area
    0.207
    """
    maps = np.asarray(attributions, dtype=np.float64)
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3:
        raise ValueError(f"attributions should be maps of shape (n_samples, height, width); got shape {maps.shape}")
    n, h, w = maps.shape
    per_image = _per_image(landmarks, n)
    positive = np.clip(maps, 0, None)
    totals = positive.reshape(n, -1).sum(axis=1)
    shares = {name: np.full(n, np.nan) for name in REGIONS}
    area = {name: np.zeros(n) for name in REGIONS}
    cache = {}
    for i in range(n):
        key = None if per_image[i] is None else np.asarray(per_image[i], dtype=np.float64).tobytes()
        if key not in cache:
            cache[key] = region_masks((h, w), per_image[i])
        for name, mask in cache[key].items():
            area[name][i] = mask.mean()
            if totals[i] > 0:
                shares[name][i] = positive[i][mask].sum() / totals[i]
    return {**shares, "area": area}


def _points(landmarks, h, w):
    if landmarks is None:
        return FER2013_LANDMARKS * np.array([w, h])
    landmarks = getattr(landmarks, "landmarks", landmarks)  # a Face
    if landmarks is None:
        return FER2013_LANDMARKS * np.array([w, h])
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (5, 2):
        raise ValueError(
            f"landmarks should be five (x, y) points (left eye, right eye, nose, left and right mouth corners); "
            f"got shape {points.shape}"
        )
    return points


def _per_image(landmarks, n):
    """One entry per map: None (FER2013's framing) or five points."""
    if landmarks is None or hasattr(landmarks, "landmarks"):
        return [getattr(landmarks, "landmarks", None)] * n
    if isinstance(landmarks, (list, tuple)) and landmarks and hasattr(landmarks[0], "landmarks"):
        if len(landmarks) != n:
            raise ValueError(f"{len(landmarks)} faces were given for {n} maps; give one per map")
        return [face.landmarks for face in landmarks]
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape == (5, 2):
        return [points] * n
    if points.shape == (n, 5, 2):
        return list(points)
    raise ValueError(
        f"landmarks should have shape (5, 2) for every map or ({n}, 5, 2), one set per map; got {points.shape}"
    )
