"""Procedural facial-expression faces, in the spirit of ``make_classification``."""

import numpy as np
from sklearn.utils import check_random_state

from ._vocabulary import EMOTIONS

# FACS action units fersk draws, and what each expression sets them to.
_AUS = ("AU1", "AU2", "AU4", "AU5", "AU7", "AU9", "AU10", "AU12", "AU14", "AU15", "AU20", "AU23", "AU26")
_PROTOTYPES = {
    "neutral": {},
    "happy": {"AU12": 1.0, "AU7": 0.3, "AU26": 0.25},  # lip-corner pull, cheek raise
    "sad": {"AU1": 1.0, "AU4": 0.5, "AU15": 1.0},  # inner brow raise, lip-corner depress
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU26": 1.0},  # brows up, eyes wide, jaw drop
    "fear": {"AU1": 1.0, "AU2": 0.6, "AU4": 0.7, "AU5": 0.8, "AU20": 1.0, "AU26": 0.4},
    "angry": {"AU4": 1.0, "AU7": 1.0, "AU23": 1.0},  # brow lower, lid tighten, lip tighten
    "disgust": {"AU9": 1.0, "AU10": 1.0, "AU4": 0.4, "AU15": 0.4},  # nose wrinkle, upper-lip raise
    "contempt": {"AU14": 1.0},  # one lip corner pulled
}
_BASIC = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
_SUPERSAMPLE = 3


def _segment_distance(u, v, p, q):
    """Distance from each (u, v) to the segment p-q."""
    du, dv = q[0] - p[0], q[1] - p[1]
    t = np.clip(((u - p[0]) * du + (v - p[1]) * dv) / (du * du + dv * dv), 0.0, 1.0)
    return np.hypot(u - p[0] - t * du, v - p[1] - t * dv)


def _identity(rng):
    return {
        "face_w": rng.uniform(0.62, 0.78),
        "face_h": rng.uniform(0.82, 0.95),
        "skin": rng.uniform(0.45, 0.85),
        "ink": rng.uniform(0.0, 0.25),
        "eye_x": rng.uniform(0.26, 0.34),
        "eye_y": rng.uniform(-0.14, -0.06),
        "eye_w": rng.uniform(0.10, 0.14),
        "brow_t": rng.uniform(0.035, 0.06),
        "mouth_y": rng.uniform(0.42, 0.52),
        "mouth_w": rng.uniform(0.2, 0.28),
        "hair": rng.uniform() < 0.7,
        "hair_tone": rng.uniform(0.0, 0.5),
    }


def _draw_face(u, v, person, au):
    """Draw one face in face coordinates (u right, v down); returns intensities in [0, 1]."""
    a = dict.fromkeys(_AUS, 0.0)
    a.update(au)
    image = np.full(u.shape, np.nan)
    face = (u / person["face_w"]) ** 2 + ((v - 0.05) / person["face_h"]) ** 2 <= 1.0
    image[face] = person["skin"]
    if person["hair"]:
        image[face & (v < -0.62 + 0.08 * np.cos(3 * u))] = person["hair_tone"]
    ink = person["ink"]

    # brows: AU1 raises the inner end, AU2 the outer end, AU4 lowers and gathers the inner end
    for side in (-1, 1):
        inner = (side * (0.12 - 0.04 * a["AU4"]), -0.3 - 0.13 * a["AU1"] + 0.1 * a["AU4"])
        outer = (side * 0.46, -0.33 - 0.12 * a["AU2"] + 0.02 * a["AU4"])
        image[face & (_segment_distance(u, v, inner, outer) < person["brow_t"])] = ink

    # eyes: AU5 widens, AU7 (and a little AU12, the cheek raise) narrows
    openness = np.clip(0.055 + 0.05 * a["AU5"] - 0.03 * a["AU7"] - 0.01 * a["AU12"], 0.012, None)
    for side in (-1, 1):
        ex, ey = side * person["eye_x"], person["eye_y"] + 0.03 * a["AU4"]
        eye = ((u - ex) / person["eye_w"]) ** 2 + ((v - ey) / openness) ** 2 <= 1.0
        image[face & eye] = ink
        if a["AU5"] > 0.3:  # visible white above the iris
            white = ((u - ex) / (0.55 * person["eye_w"])) ** 2 + (
                (v - ey + 0.6 * openness) / (0.35 * openness)
            ) ** 2 <= 1.0
            image[face & white] = 1.0

    # nose, with AU9's wrinkles across the bridge
    image[face & (_segment_distance(u, v, (0.0, -0.02), (0.04, 0.2)) < 0.018)] = person["skin"] * 0.7
    for side in (-1, 1):
        image[face & ((u - side * 0.07) ** 2 + (v - 0.24) ** 2 < 0.03**2)] = ink
    if a["AU9"] > 0.2:
        for y in (0.0, 0.06):
            image[face & (_segment_distance(u, v, (-0.09, y), (0.09, y)) < 0.015 * a["AU9"])] = ink

    # mouth: AU12 pulls the corners up and out, AU15 down, AU14 one corner only,
    # AU20 stretches, AU23 tightens, AU10 raises the upper lip, AU26 drops the jaw
    half = person["mouth_w"] * (1 + 0.3 * a["AU12"] + 0.45 * a["AU20"] - 0.35 * a["AU23"])
    t = np.clip(u / half, -1.0, 1.0)
    lift = -0.14 * a["AU12"] + 0.13 * a["AU15"] - 0.15 * a["AU14"] * (t > 0)
    upper = person["mouth_y"] + lift * t**2 - 0.06 * a["AU10"] * (1 - t**2)
    opening = (0.28 * a["AU26"] + 0.06 * a["AU20"] + 0.03 * a["AU10"]) * (1 - t**2)
    lip = 0.028 * (1 - 0.5 * a["AU23"])
    in_mouth = face & (np.abs(u) < half) & (v > upper - lip) & (v < upper + opening + lip)
    image[in_mouth] = ink
    return image


def make_faces(
    n_samples=700,
    *,
    image_size=48,
    emotions=None,
    weights=None,
    difficulty=0.3,
    noise=None,
    occlusion=None,
    n_identities=None,
    shuffle=True,
    random_state=None,
):
    """Generate synthetic faces showing facial expressions.

    Faces are drawn procedurally. Brows, lids, mouth and nose move as the basic
    expressions move them, through FACS action units: inner and outer brow raise
    (AU1, AU2), brow lower (AU4), upper-lid raise and lid tighten (AU5, AU7), nose
    wrinkle (AU9), upper-lip raise (AU10), lip-corner pull and depress (AU12, AU15),
    one-sided pull for contempt (AU14), lip stretch and tighten (AU20, AU23) and jaw
    drop (AU26). Identity (face shape, skin, hair, feature placement), pose (roll,
    yaw, shift, scale), lighting, occlusion and noise vary from image to image.

    Parameters
    ----------
    n_samples : int, default=700
        How many faces.
    image_size : int, default=48
        Side of the square grayscale images.
    emotions : list of str, optional
        Which expressions; default the seven of FER2013. ``"contempt"`` is also drawn.
    weights : list of float, optional
        Class proportions, as in ``make_classification``; default balanced.
    difficulty : float in [0, 1], default=0.3
        Scales pose, lighting, occlusion and noise, weakens expressions and adds
        stray action units. A HOG+SVM (``HOGSVMClassifier()``, 1,400 faces, 4-fold
        CV; ``python benchmarks/bench_make_faces.py``) scores 99.9% at
        ``difficulty=0``, 96.2% at 0.3 and 31.7% at 1.0, against 14% for chance.
    noise : float, optional
        Standard deviation of Gaussian pixel noise, as a fraction of the range;
        default ``0.02 + 0.1 * difficulty``.
    occlusion : float, optional
        Probability that an object hides part of the face; default ``0.4 * difficulty``.
    n_identities : int, optional
        Draw people from a fixed pool of this many, so each person appears with
        several expressions; default a new person for every image.
    shuffle : bool, default=True
        Shuffle the samples; otherwise they come class by class.
    random_state : int, RandomState instance or None
        Seed for reproducible faces.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, image_size * image_size)
        One flattened grayscale face per row, whole pixel values 0-255. Floats, as
        scikit-learn's ``load_digits`` gives them, so that SMOTE's interpolation
        cannot wrap around as it does in uint8.
    y : ndarray of str, shape (n_samples,)
        The expression of each face.

    Examples
    --------
    >>> X, y = make_faces(14, image_size=32, random_state=0)
    >>> X.shape, X.dtype
    ((14, 1024), dtype('float32'))
    >>> sorted(set(y.tolist()))
    ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']
    """
    emotions = list(_BASIC if emotions is None else emotions)
    unknown = [e for e in emotions if e not in _PROTOTYPES]
    if unknown:
        raise ValueError(f"make_faces cannot draw {unknown}; choose from {list(EMOTIONS)}")
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must lie in [0, 1], got {difficulty}")
    if n_samples < 1 or image_size < 8:
        raise ValueError("make_faces needs n_samples >= 1 and image_size >= 8")
    rng = check_random_state(random_state)
    if weights is None:
        weights = np.full(len(emotions), 1.0 / len(emotions))
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(emotions),) or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"weights must be {len(emotions)} non-negative numbers, one per emotion")
    counts = np.floor(weights / weights.sum() * n_samples).astype(int)
    counts[np.argsort(-weights)[: n_samples - counts.sum()]] += 1
    y = np.repeat(np.array(emotions), counts)

    d = difficulty
    noise = 0.02 + 0.1 * d if noise is None else noise
    occlusion = 0.4 * d if occlusion is None else occlusion
    pool = [_identity(rng) for _ in range(n_identities)] if n_identities else None

    side = image_size * _SUPERSAMPLE
    grid = (np.arange(side) + 0.5) / side * 2 - 1
    x, yy = np.meshgrid(grid, grid)
    X = np.empty((n_samples, image_size * image_size), dtype=np.float32)
    for i, emotion in enumerate(y):
        person = pool[rng.randint(len(pool))] if pool else _identity(rng)
        strength = rng.uniform(1 - 0.7 * d, 1.0)
        au = {k: strength * value for k, value in _PROTOTYPES[emotion].items()}
        for k in _AUS:  # stray action units blur the classes as difficulty grows
            au[k] = float(np.clip(au.get(k, 0.0) + abs(rng.normal(0, 0.3 * d)), 0, 1.2))
        roll = np.deg2rad(rng.uniform(-20, 20) * d)
        scale = 1 + rng.uniform(-0.15, 0.15) * d
        tx, ty = rng.uniform(-0.12, 0.12, size=2) * d
        yaw = rng.uniform(-1, 1) * d
        cos, sin = np.cos(roll), np.sin(roll)
        px, py = (x - tx) / scale, (yy - ty) / scale
        u = (cos * px + sin * py) - 0.12 * yaw * (1 - py**2)
        v = -sin * px + cos * py
        face = _draw_face(u, v, person, au)
        background = rng.uniform(0.05, 0.95)
        image = np.where(np.isnan(face), background, face)
        if rng.uniform() < occlusion:
            cx, cy = rng.uniform(-0.5, 0.5, size=2)
            w, h = rng.uniform(0.2, 0.5, size=2)
            image[(np.abs(x - cx) < w / 2) & (np.abs(yy - cy) < h / 2)] = rng.uniform()
        angle = rng.uniform(0, 2 * np.pi)
        image = image * (1 + 0.6 * d * rng.uniform() * (np.cos(angle) * x + np.sin(angle) * yy) / 2)
        image = image.reshape(image_size, _SUPERSAMPLE, image_size, _SUPERSAMPLE).mean(axis=(1, 3))
        image = image + rng.normal(0, noise, size=image.shape)
        X[i] = np.floor(np.clip(image * 255 + 0.5, 0, 255)).ravel()
    if shuffle:
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    return X, y
