"""Photos holding a known number of faces at known boxes: faces pasted on a plain background."""

import functools
from typing import NamedTuple

import numpy as np
from PIL import Image
from sklearn.utils import check_random_state

# The astronaut's face in scikit-image's astronaut() photo (it ships with scikit-image, so it works offline),
# as (left, top, right, bottom), and the patch pasted: the face with a margin of about a third of its width and
# a quarter of its height, so that pasted faces never touch and a detector sees a whole head.
_FACE = (177, 59, 268, 175)
_MARGIN = (27, 29)
MIN_FACE, MAX_FACE = 24, 400
MIN_SIDE = 64  # the smallest photo made, faces or not


class Photo(NamedTuple):
    """A photo and the boxes of the faces pasted on it.

    Attributes
    ----------
    image : ndarray of uint8, shape (height, width, 3)
        The photo, RGB, as :func:`fersk.read_image` returns one.
    boxes : ndarray of float, shape (n_faces, 4)
        Each face's ``(left, top, right, bottom)`` in pixels, as :attr:`fersk.Face.box` gives
        it, largest first, as :func:`fersk.detect_faces` lists faces.
    """

    image: np.ndarray
    boxes: np.ndarray

    @property
    def n_faces(self):
        """How many faces the photo holds."""
        return len(self.boxes)


@functools.lru_cache(maxsize=1)
def _astronaut():
    from skimage.data import astronaut

    left, top, right, bottom = _FACE
    mx, my = _MARGIN
    patch = astronaut()[top - my : bottom + my, left - mx : right + mx]
    return patch, np.array([mx, my, mx + right - left, my + bottom - top], dtype=float)


def check_face_images(face_images):
    """The face patches to paste, as a list of (RGB uint8 patch, box of the face in it)."""
    if face_images is None:
        return [_astronaut()]
    patches = []
    for k, image in enumerate(face_images):
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[..., 0]
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 8:
            raise ValueError(
                f"face_images[{k}] has shape {image.shape}; give faces as (h, w), (h, w, 1) or (h, w, 3) "
                "arrays of at least 8 x 8 pixels"
            )
        if image.min() < 0 or image.max() > 255:
            raise ValueError(f"face_images[{k}] holds values outside 0-255; pixel values must run from 0 to 255")
        h, w = image.shape[:2]
        patches.append((np.ascontiguousarray(image.astype(np.uint8)), np.array([0.0, 0.0, w, h])))
    if not patches:
        raise ValueError("face_images is empty; give at least one face, or None for the astronaut's")
    return patches


def check_face_size(face_size):
    low, high = (face_size, face_size) if np.isscalar(face_size) else face_size
    if not MIN_FACE <= low <= high <= MAX_FACE:
        raise ValueError(
            f"face_size must be a height in pixels, or a (low, high) range, within {MIN_FACE}-{MAX_FACE}; "
            f"got {face_size}"
        )
    return int(low), int(high)


def scaled_patch(patch, box, face_height, flip):
    """The patch resized so that its face is ``face_height`` pixels high (mirrored if ``flip``), and the face's box."""
    scale = face_height / (box[3] - box[1])
    h, w = patch.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = np.asarray(Image.fromarray(patch).resize(size, Image.BILINEAR))
    sx, sy = size[0] / w, size[1] / h
    left, top, right, bottom = box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy
    if flip:
        resized = resized[:, ::-1]
        left, right = size[0] - right, size[0] - left
    return resized, np.array([left, top, right, bottom])


def compose(patches, gaps, offsets, height, level, seed):
    """Paste ``patches`` (image, face box) left to right on a noisy background of mean ``level``.

    ``gaps`` holds ``len(patches) + 1`` widths (before, between and after the patches); each
    patch's top is ``offsets[k]`` (at most ``height`` minus its height).
    """
    width = max(MIN_SIDE, sum(p.shape[1] for p, _ in patches) + sum(gaps))
    height = max(MIN_SIDE, height)
    rng = np.random.default_rng(seed)
    image = rng.integers(level, level + 40, (height, width, 3), dtype=np.uint8)
    boxes, col = [], gaps[0]
    for (patch, box), offset, gap in zip(patches, offsets, gaps[1:]):
        h, w = patch.shape[:2]
        image[offset : offset + h, col : col + w] = patch
        boxes.append(box + [col, offset, col, offset])
        col += w + gap
    boxes = np.array(boxes, dtype=float).reshape(-1, 4)
    order = np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), kind="stable")
    return Photo(image, boxes[order])


def make_photo(n_faces, *, face_size=(40, 96), face_images=None, random_state=None):
    """Make a photo holding ``n_faces`` faces at known boxes, without hypothesis.

    Faces are pasted side by side, apart, each mirrored or not, on a plain noisy
    background. By default the face is the astronaut's from scikit-image's ``astronaut()``
    photo, which ships with scikit-image. fersk's default detector (MTCNN) counted the faces
    right in each of 100 such photos (``make_photo(k % 4, random_state=k)``, 150 faces), each
    box's centre within 7% of the face's height of the pasted one; the LBP cascade miscounted 10.

    Parameters
    ----------
    n_faces : int
        How many faces; 0 gives a photo without one.
    face_size : int or (int, int), default=(40, 96)
        Height of each face box in pixels, or a range each face's height is drawn from.
    face_images : sequence of arrays, optional
        Your own faces, each ``(h, w)`` or ``(h, w, 3)`` with values 0-255; each pasted one is
        drawn from them and its whole area is its box. Default the astronaut's face.
    random_state : int, RandomState instance or None
        Seed for the sizes, places and background.

    Returns
    -------
    Photo
        The ``image`` (``(height, width, 3)`` uint8) and the faces' ``boxes``, largest first.

    Examples
    --------
    >>> photo = make_photo(2, random_state=0)
    >>> photo.image.dtype, photo.n_faces, photo.boxes.shape
    (dtype('uint8'), 2, (2, 4))
    >>> import fersk
    >>> len(fersk.detect_faces(photo.image))
    2
    """
    if not isinstance(n_faces, (int, np.integer)) or n_faces < 0:
        raise ValueError(f"n_faces must be a whole number >= 0, got {n_faces!r}")
    low, high = check_face_size(face_size)
    sources = check_face_images(face_images)
    rng = check_random_state(random_state)
    patches = [
        scaled_patch(*sources[rng.randint(len(sources))], rng.randint(low, high + 1), rng.uniform() < 0.5)
        for _ in range(n_faces)
    ]
    gaps = rng.randint(0, 41, n_faces + 1).tolist()
    height = max([p.shape[0] for p, _ in patches], default=0) + rng.randint(0, 41)
    offsets = [rng.randint(0, max(height, MIN_SIDE) - p.shape[0] + 1) for p, _ in patches]
    return compose(patches, gaps, offsets, height, rng.randint(60, 181), rng.randint(2**31))
