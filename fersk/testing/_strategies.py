"""Hypothesis strategies for what an emotion model takes in: pixel rows, labelled faces, photos, label spellings."""

from numbers import Integral, Real

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ..datasets import EMOTIONS, canonical_emotion, make_faces
from ._photos import MIN_SIDE, check_face_images, check_face_size, compose, scaled_patch

# The spellings datasets use for each of fersk's emotions, as fersk.canonical_emotion maps them; kept here on purpose
# (a test's oracle is not the code under test), and held to canonical_emotion's table by tests/test_testing.py.
SPELLINGS = {
    "angry": ("angry", "anger", "mad"),
    "disgust": ("disgust", "disgusted"),
    "fear": ("fear", "fearful", "afraid", "scared"),
    "happy": ("happy", "happiness", "joy"),
    "sad": ("sad", "sadness"),
    "surprise": ("surprise", "surprised"),
    "neutral": ("neutral", "neutrality", "calm"),
    "contempt": ("contempt", "contemptuous"),
}


def _count(value, name, default, low=0):
    """A strategy of whole numbers >= ``low`` from an int, a strategy, or None (``default``)."""
    if value is None:
        return default
    if isinstance(value, st.SearchStrategy):
        return value
    if isinstance(value, Integral) and not isinstance(value, bool) and value >= low:
        return st.just(int(value))
    raise ValueError(f"{name} must be a whole number >= {low} or a hypothesis strategy of them, got {value!r}")


def _side(image_size):
    h, w = (image_size, image_size) if isinstance(image_size, Integral) else tuple(image_size)
    if not (isinstance(h, Integral) and isinstance(w, Integral) and h >= 1 and w >= 1):
        raise ValueError(f"image_size must be a side or (height, width) in pixels, got {image_size!r}")
    return int(h), int(w)


def _channels(channels):
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    return channels


def images(n_images=None, *, image_size=24, channels=1, mirror_symmetric=False):
    """Arbitrary images as fersk takes them: ``(n, height * width * channels)`` rows of uint8 pixels 0-255.

    Every pixel value is possible, so a property checked on these holds for any input, not only faces.

    Parameters
    ----------
    n_images : int or strategy of int, optional
        How many images; default 1 to 10.
    image_size : int or (int, int), default=24
        Side, or ``(height, width)``, of the images.
    channels : {1, 3}, default=1
        Grayscale or RGB (rows flattened channels-last, as ``(h, w, 3)`` images reshape).
    mirror_symmetric : bool, default=False
        Each image's right half is its left half mirrored, so that the image equals its mirror.

    Returns
    -------
    SearchStrategy of ndarray of uint8, shape (n, height * width * channels)

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(X=images(n_images=3, image_size=(4, 5), mirror_symmetric=True))
    ... def test_mirror(X):
    ...     pictures = X.reshape(3, 4, 5)
    ...     assert (pictures == pictures[:, :, ::-1]).all()
    >>> test_mirror()
    """
    count = _count(n_images, "n_images", st.integers(1, 10), low=1)
    h, w = _side(image_size)
    c = _channels(channels)

    @st.composite
    def draw_images(draw):
        X = draw(arrays(np.uint8, (draw(count), h, w, c)))
        if mirror_symmetric:
            X[:, :, w - w // 2 :] = X[:, :, : w // 2][:, :, ::-1]
        return X.reshape(len(X), -1)

    return draw_images()


def _emotions(emotions):
    """The emotions as given, and the canonical names make_faces draws, refusing duplicates and unknowns."""
    given = list(EMOTIONS[:7] if emotions is None else emotions)
    canonical = [canonical_emotion(e) for e in given]
    unknown = [e for e, c in zip(given, canonical) if c not in EMOTIONS]
    if unknown or not given:
        raise ValueError(
            f"faces can draw {list(EMOTIONS)} (any spelling canonical_emotion maps), got {unknown or given}"
        )
    if len(set(canonical)) < len(canonical):
        raise ValueError(f"emotions {given} name one emotion twice ({canonical})")
    return given, canonical


def faces(n_faces=None, *, image_size=24, emotions=None, difficulty=0.3, channels=1, all_emotions=False):
    """Labelled synthetic faces, drawn by :func:`fersk.make_faces`, as ``(X, y)``.

    Hypothesis draws the labels and the seed of each face, so a failure shrinks to few faces
    of few emotions, and replays exactly.

    Parameters
    ----------
    n_faces : int or strategy of int, optional
        How many faces; default 1 to 10.
    image_size : int, default=24
        Side of the square faces (at least 8).
    emotions : sequence of str, optional
        The class set: labels are drawn from it, spelled as given (``model.classes_`` works).
        Each must be an emotion :func:`fersk.make_faces` draws, in any spelling
        :func:`fersk.canonical_emotion` maps (``"Happiness"``). Default the seven of FER2013.
    difficulty : float or strategy of float, default=0.3
        Pose, lighting, occlusion and noise, from 0 to 1, as in :func:`fersk.make_faces`.
    channels : {1, 3}, default=1
        Grayscale, or the grayscale face repeated in three RGB channels.
    all_emotions : bool, default=False
        Every emotion appears at least once (so that the faces can fit a classifier); there
        are then at least ``len(emotions)`` faces.

    Returns
    -------
    SearchStrategy of (ndarray of float32, ndarray of str)
        ``X`` of shape ``(n, image_size**2 * channels)`` holding whole pixel values 0-255, as
        fersk's loaders give them, and the labels ``y``.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(data=faces(image_size=16, emotions=["Happiness", "sad"], all_emotions=True))
    ... def test_faces(data):
    ...     X, y = data
    ...     assert X.shape == (len(y), 16 * 16) and set(y) == {"Happiness", "sad"}
    >>> test_faces()
    """
    count = _count(n_faces, "n_faces", st.integers(1, 10), low=1)
    if not isinstance(image_size, Integral) or image_size < 8:
        raise ValueError(
            f"image_size must be a whole number >= 8 (make_faces draws no smaller face), got {image_size!r}"
        )
    c = _channels(channels)
    given, canonical = _emotions(emotions)
    if isinstance(difficulty, Real) and not isinstance(difficulty, bool):
        if not 0 <= difficulty <= 1:
            raise ValueError(f"difficulty must lie in [0, 1], got {difficulty}")
        difficulty = st.just(float(difficulty))
    elif not isinstance(difficulty, st.SearchStrategy):
        raise ValueError(f"difficulty must be a number in [0, 1] or a strategy of them, got {difficulty!r}")

    @st.composite
    def draw_faces(draw):
        n = draw(count)
        codes = st.integers(0, len(given) - 1)
        if all_emotions:
            extra = draw(st.lists(codes, min_size=max(n - len(given), 0), max_size=max(n - len(given), 0)))
            labels = np.array(draw(st.permutations(list(range(len(given))) + extra)))
        else:
            labels = np.array(draw(st.lists(codes, min_size=n, max_size=n)))
        seed, d = draw(st.integers(0, 2**32 - 1 - len(given))), draw(difficulty)
        X = np.empty((len(labels), image_size * image_size), dtype=np.float32)
        for code in np.unique(labels):
            rows = np.flatnonzero(labels == code)
            drawn = dict(emotions=[canonical[code]], difficulty=d, shuffle=False, random_state=seed + int(code))
            X[rows], _ = make_faces(len(rows), image_size=image_size, **drawn)
        if c == 3:
            X = np.repeat(X[:, :, None], 3, axis=2).reshape(len(X), -1)
        return X, np.array([given[code] for code in labels])

    return draw_faces()


def photos(n_faces=None, *, face_size=(40, 96), face_images=None):
    """Photos holding a known number of faces at known boxes, so that a detector's answer can be checked.

    Faces are pasted side by side, apart, each mirrored or not, at drawn sizes and places, on a
    plain noisy background (see :func:`make_photo`, its counterpart without hypothesis). By
    default the face is the astronaut's from scikit-image's ``astronaut()`` photo, whose faces
    fersk's default detector (MTCNN) counted right in each of 100 such photos of up to three.

    Parameters
    ----------
    n_faces : int or strategy of int, optional
        How many faces; default 0 to 3.
    face_size : int or (int, int), default=(40, 96)
        Height of each face box in pixels, or the range it is drawn from.
    face_images : sequence of arrays, optional
        Your own faces (``(h, w)`` or ``(h, w, 3)``, values 0-255), each pasted one drawn from
        them, its whole area its box. Default the astronaut's face.

    Returns
    -------
    SearchStrategy of Photo
        ``image`` (``(height, width, 3)`` uint8) and ``boxes`` (``(n_faces, 4)``, as
        ``(left, top, right, bottom)``, largest first).

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> import fersk
    >>> @settings(max_examples=3, deadline=None, derandomize=True)
    ... @given(photo=photos(n_faces=st.integers(0, 2)))
    ... def test_count(photo):
    ...     assert len(fersk.detect_faces(photo.image)) == photo.n_faces
    >>> test_count()
    """
    count = _count(n_faces, "n_faces", st.integers(0, 3))
    low, high = check_face_size(face_size)
    sources = check_face_images(face_images)

    @st.composite
    def draw_photo(draw):
        n = draw(count)
        patches = []
        for _ in range(n):
            source = sources[draw(st.integers(0, len(sources) - 1))]
            patches.append(scaled_patch(*source, draw(st.integers(low, high)), draw(st.booleans())))
        gaps = draw(st.lists(st.integers(0, 40), min_size=n + 1, max_size=n + 1))
        height = max([p.shape[0] for p, _ in patches], default=0) + draw(st.integers(0, 40))
        offsets = [draw(st.integers(0, max(height, MIN_SIDE) - p.shape[0])) for p, _ in patches]
        return compose(patches, gaps, offsets, height, draw(st.integers(60, 180)), draw(st.integers(0, 2**31 - 1)))

    return draw_photo()


def _spelled(word, draw, whitespace):
    style = draw(st.sampled_from(["lower", "upper", "title", "mixed"]))
    if style == "mixed":
        upper = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
        word = "".join(ch.upper() if up else ch for ch, up in zip(word, upper))
    else:
        word = getattr(word, style)()
    if whitespace:
        word = draw(st.text(" \t", max_size=2)) + word + draw(st.text(" \t", max_size=2))
    return word


def _canonical(emotions):
    names = list(EMOTIONS if emotions is None else emotions)
    canonical = list(dict.fromkeys(canonical_emotion(e) for e in names))
    if not canonical or not all(canonical):
        raise ValueError(f"emotions must be non-empty names, got {names!r}")
    return canonical


def emotion_labels(emotions=None, *, whitespace=True):
    """Spellings of emotion names that :func:`fersk.canonical_emotion` maps onto fersk's names.

    Synonyms datasets use (``"anger"``, ``"happiness"``, ``"surprised"``), in any case
    (``"Angry"``, ``"HAPPINESS"``, ``"sAd"``), with surrounding spaces or tabs.

    Parameters
    ----------
    emotions : sequence of str, optional
        The emotions to spell; default all of :data:`fersk.EMOTIONS`. A name outside them
        (``"pain"``) is spelled in other cases only, as canonical_emotion keeps it.
    whitespace : bool, default=True
        Add spaces and tabs around some spellings.

    Returns
    -------
    SearchStrategy of str

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from fersk import canonical_emotion
    >>> @settings(max_examples=20)
    ... @given(label=emotion_labels(["angry", "happy"]))
    ... def test_labels(label):
    ...     assert canonical_emotion(label) in ("angry", "happy")
    >>> test_labels()
    """
    canonical = _canonical(emotions)

    @st.composite
    def draw_label(draw):
        name = draw(st.sampled_from(canonical))
        return _spelled(draw(st.sampled_from(SPELLINGS.get(name, (name,)))), draw, whitespace)

    return draw_label()


def label_vocabularies(emotions=None, *, min_size=2, max_size=None):
    """A dataset's class names: one spelling per emotion, as ``{spelling: canonical name}``.

    What a loader must map: folders named ``Angry/``, ``HAPPINESS/`` and ``sadness/``, say.
    Spellings carry no surrounding spaces, so that they can name folders.

    Parameters
    ----------
    emotions : sequence of str, optional
        The emotions a vocabulary is drawn from; default all of :data:`fersk.EMOTIONS`.
    min_size, max_size : int
        How many emotions a vocabulary names; default 2 up to all of them.

    Returns
    -------
    SearchStrategy of dict of str to str

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from fersk import canonical_emotion
    >>> @settings(max_examples=10)
    ... @given(vocabulary=label_vocabularies(["sad", "happy", "fear"]))
    ... def test_vocabulary(vocabulary):
    ...     assert {canonical_emotion(k): v for k, v in vocabulary.items()} == {v: v for v in vocabulary.values()}
    >>> test_vocabulary()
    """
    canonical = _canonical(emotions)
    max_size = len(canonical) if max_size is None else max_size
    if not 1 <= min_size <= max_size <= len(canonical):
        raise ValueError(f"need 1 <= min_size <= max_size <= {len(canonical)} emotions, got {min_size}, {max_size}")

    @st.composite
    def draw_vocabulary(draw):
        names = draw(st.lists(st.sampled_from(canonical), min_size=min_size, max_size=max_size, unique=True))
        return {_spelled(draw(st.sampled_from(SPELLINGS.get(n, (n,)))), draw, False): n for n in names}

    return draw_vocabulary()
