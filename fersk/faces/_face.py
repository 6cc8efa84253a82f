"""The record a face detector returns for each face."""

from dataclasses import dataclass

import numpy as np

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True, eq=False)
class Face:
    """One face found in an image.

    Parameters
    ----------
    box : tuple of 4 floats
        ``(left, top, right, bottom)`` in pixels of the image as given: ``left`` and
        ``top`` are the first column and row of the box, ``right`` and ``bottom`` one past
        the last (so ``image[int(top):int(bottom), int(left):int(right)]`` is the face).
        A face cut by the image's border may have a box that reaches past it.
    score : float
        The detector's confidence: MTCNN's O-Net probability in [0, 1]; 1.0 for the LBP
        cascade, which gives none.
    landmarks : ndarray of shape (5, 2) or None
        ``(x, y)`` of the left eye, right eye, nose, left mouth corner and right mouth
        corner, in the same pixels as ``box``. "Left" is the image's left: the person's
        right eye. None where the detector finds no landmarks (the LBP cascade).

    Examples
    --------
    >>> face = Face((10.0, 20.0, 60.0, 80.0), 0.99)
    >>> face.width, face.height, face.center
    (50.0, 60.0, (35.0, 50.0))
    """

    box: tuple
    score: float
    landmarks: np.ndarray | None = None

    def __post_init__(self):
        box = tuple(float(v) for v in self.box)
        if len(box) != 4 or not all(np.isfinite(box)) or box[2] < box[0] or box[3] < box[1]:
            raise ValueError(
                f"box must be (left, top, right, bottom) with right >= left, bottom >= top; got {self.box}"
            )
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "score", float(self.score))
        if self.landmarks is not None:
            landmarks = np.array(self.landmarks, dtype=np.float64).reshape(5, 2)
            landmarks.flags.writeable = False  # the record is frozen, its landmarks too
            object.__setattr__(self, "landmarks", landmarks)

    @property
    def width(self):
        """``right - left``, in pixels."""
        return self.box[2] - self.box[0]

    @property
    def height(self):
        """``bottom - top``, in pixels."""
        return self.box[3] - self.box[1]

    @property
    def area(self):
        """``width * height``: the order in which detectors list faces, largest first."""
        return self.width * self.height

    @property
    def center(self):
        """``(x, y)`` of the box's centre."""
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    def to_dict(self):
        """The face as plain Python values, for a CSV row or JSON: ``left``, ``top``,
        ``right``, ``bottom``, ``score`` and, with landmarks, ``left_eye_x``, ``left_eye_y``...

        >>> Face((1, 2, 3, 4), 0.5).to_dict()
        {'left': 1.0, 'top': 2.0, 'right': 3.0, 'bottom': 4.0, 'score': 0.5}
        """
        row = dict(zip(("left", "top", "right", "bottom"), self.box), score=self.score)
        if self.landmarks is not None:
            for name, (x, y) in zip(LANDMARK_NAMES, self.landmarks.tolist()):
                row[f"{name}_x"], row[f"{name}_y"] = x, y
        return row

    def __eq__(self, other):
        if not isinstance(other, Face):
            return NotImplemented
        same_landmarks = (self.landmarks is None and other.landmarks is None) or (
            self.landmarks is not None
            and other.landmarks is not None
            and np.array_equal(self.landmarks, other.landmarks)
        )
        return self.box == other.box and self.score == other.score and same_landmarks

    __hash__ = None

    def __repr__(self):
        box = ", ".join(f"{v:.1f}" for v in self.box)
        marks = "" if self.landmarks is None else ", landmarks=(5, 2)"
        return f"Face(box=({box}), score={self.score:.3f}{marks})"
