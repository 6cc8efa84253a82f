"""What fersk finds in photos and video frames, as records: one base, flat rows, CSV, pandas and Parquet.

:class:`FaceRecord` (a face of a photo) and :class:`fersk.FrameRecord` (a face of a video
frame) share :class:`FaceRecordBase`; :class:`FaceRecords` and :class:`fersk.VideoRecords`
share :class:`FaceRecordsBase`, so both give the same ``to_dict``, ``to_csv``, ``to_frame``
and ``to_parquet``.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._atomic import atomic_path

BOX_FIELDS = ("left", "top", "right", "bottom")
# the columns of an honest "unsure", after ``predicted``, where they were asked for (analyze_faces'
# coverage and abstain_precision): the prediction set, its labels joined by SET_SEPARATOR, and the abstention
CONFIDENCE_FIELDS = ("prediction_set", "unsure")
SET_SEPARATOR = "|"


class FaceRecordBase:
    """What a face record of a photo and of a video frame have in common.

    Subclasses are frozen dataclasses with ``face_found``, ``box``, ``score``,
    ``probabilities`` and ``predicted`` fields, and say which fields lead their rows
    (``_keys``) and which they round to other decimals (``_places``). Those with
    ``prediction_set`` and ``unsure`` fields (None where not asked for) give them as columns.
    """

    _places = {}

    @property
    def probability(self):
        """The probability of the predicted class (None when nothing was classified)."""
        return None if self.probabilities is None else self.probabilities[self.predicted]

    def to_dict(self, decimals=None):
        """The record as one flat row of plain Python values: the record's own keys, then
        ``left``, ``top``, ``right``, ``bottom``, ``score``, ``predicted``, where they were asked
        for ``prediction_set`` (its labels joined by ``|``, most probable first) and ``unsure``,
        and one column per class. Missing values are None.

        Parameters
        ----------
        decimals : int, optional
            Round the score and probabilities to this many decimals and the box to a tenth
            of a pixel (a video frame's time to a millisecond), as the ``fersk`` command
            writes them.

        Returns
        -------
        dict
        """
        row = self._keys()
        row.update(zip(BOX_FIELDS, self.box if self.box is not None else (None,) * 4))
        row.update(score=self.score, predicted=self.predicted)
        labels = getattr(self, "prediction_set", None)
        if labels is not None:
            row["prediction_set"] = SET_SEPARATOR.join(map(str, labels))
        if getattr(self, "unsure", None) is not None:
            row["unsure"] = self.unsure
        row.update(self.probabilities or {})
        return round_row(row, decimals, self._places)


class FaceRecordsBase(list):
    """A list of face records with the classes they were classified into, as rows, CSV or a DataFrame.

    Subclasses set ``key_fields``: the columns that lead each row.
    """

    key_fields = ()

    def __init__(self, records=(), *, classes=None, coverage=None, abstain_precision=None):
        super().__init__(records)
        self.classes = list(classes) if classes is not None else None
        self.coverage = coverage
        self.abstain_precision = abstain_precision

    def fields(self):
        """The columns of :meth:`to_csv` and :meth:`to_frame`, in order: ``prediction_set`` and
        ``unsure`` where ``coverage`` and ``abstain_precision`` were asked for."""
        classes = self.classes
        if classes is None:  # records made without a model (face_inputs): the classes they hold
            classes = list(dict.fromkeys(c for r in self for c in (r.probabilities or {})))
        asked = (getattr(self, "coverage", None), getattr(self, "abstain_precision", None))
        confidence = [name for name, value in zip(CONFIDENCE_FIELDS, asked) if value is not None]
        return [*self.key_fields, *BOX_FIELDS, "score", "predicted", *confidence, *classes]

    def to_dict(self, decimals=None):
        """One flat row per record (see ``to_dict`` of the records).

        Parameters
        ----------
        decimals : int, optional
            As for a record's ``to_dict``.

        Returns
        -------
        list of dict
        """
        return [record.to_dict(decimals=decimals) for record in self]

    def to_csv(self, path_or_buffer, *, delimiter=",", decimals=None, na_rep=""):
        """Write one row per record, with a header.

        Parameters
        ----------
        path_or_buffer : str, path-like or text file
            Where to write: a file path (created or replaced whole, in UTF-8), or an open
            text file such as ``sys.stdout``.
        delimiter : str, default=","
        decimals : int, optional
            As for a record's ``to_dict``.
        na_rep : str, default=""
            Written for missing values (no face: no box, no score).

        Returns
        -------
        path_or_buffer
        """
        rows = self.to_dict(decimals=decimals)
        return write_rows(path_or_buffer, rows, delimiter=delimiter, na_rep=na_rep, fields=self.fields())

    def to_frame(self, decimals=None):
        """The records as a pandas DataFrame: one row per record, one column per field of
        :meth:`fields` (a probability column per class). Needs pandas.

        Parameters
        ----------
        decimals : int, optional
            As for a record's ``to_dict``.

        Returns
        -------
        pandas.DataFrame
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_frame needs pandas: pip install pandas (or fersk[parquet])") from None
        return pd.DataFrame(self.to_dict(decimals=decimals), columns=self.fields())

    def to_parquet(self, path, **kwargs):
        """Write :meth:`to_frame` as a Parquet file, whole or not at all (pandas and pyarrow).

        Parameters
        ----------
        path : str or path-like
        **kwargs
            Passed to ``pandas.DataFrame.to_parquet``.

        Returns
        -------
        Path
        """
        path = Path(path)
        frame = self.to_frame()
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False, **kwargs)
        return path


@dataclass(frozen=True)
class FaceRecord(FaceRecordBase):
    """One face of one image, as :func:`analyze_faces` found and classified it.

    A frozen dataclass, as :class:`Face` is: fields read as attributes, and
    :meth:`to_dict` gives one flat row of plain Python values, ready for
    ``csv.DictWriter``, ``json.dumps`` or ``pandas.DataFrame``.

    Parameters
    ----------
    image : int
        Position of the image in the ``images`` given to :func:`analyze_faces`.
    path : str or None
        The image's file, when it was given as a path.
    face : int or None
        The face's position among the image's faces, largest first (0 is the largest);
        None when no face was found.
    face_found : bool
        False for the one record of an image in which no face was found.
    box : tuple of 4 floats or None
        ``(left, top, right, bottom)`` in the image's pixels, as in :class:`Face`; the
        whole image with ``detector=None``; None when no face was found.
    score : float or None
        The detector's confidence (see :class:`Face`); None without a detection.
    probabilities : dict or None
        Class -> probability, in the estimator's ``classes_`` order; None when nothing
        was classified (``on_missing="skip"`` and no face).
    predicted : label or None
        The class with the highest probability.
    prediction_set : tuple or None
        With ``coverage`` given to :func:`analyze_faces`: the classes the face may be, most
        probable first, a set that holds the true class ``coverage`` of the time
        (:meth:`fersk.CNNClassifier.predict_sets`); None otherwise.
    unsure : bool or None
        With ``abstain_precision`` given to :func:`analyze_faces`: True when the model abstains,
        the top probability being below the threshold chosen for that precision
        (:meth:`fersk.CNNClassifier.predict_unsure`); ``predicted`` still gives its best guess.

    Examples
    --------
    >>> record = FaceRecord(0, "a.jpg", 0, True, (1, 2, 3, 4), 0.9, {"happy": 0.75, "sad": 0.25}, "happy")
    >>> record.to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'image': 'a.jpg', 'face': 0, 'face_found': True, 'left': 1, 'top': 2, 'right': 3, 'bottom': 4,
     'score': 0.9, 'predicted': 'happy', 'happy': 0.75, 'sad': 0.25}
    >>> record = FaceRecord(0, "a.jpg", 0, True, (40.04, 30.0, 90.0, 95.0), 0.99871, {"happy": 0.91234}, "happy")
    >>> record.to_dict(decimals=2)["left"], record.to_dict(decimals=2)["happy"], record.probability
    (40.0, 0.91, 0.91234)
    >>> unsure = FaceRecord(0, None, 0, True, None, None, {"sad": 0.5, "neutral": 0.4}, "sad", ("sad", "neutral"), True)
    >>> unsure.to_dict()["prediction_set"], unsure.to_dict()["unsure"]
    ('sad|neutral', True)
    """

    image: int
    path: str | None
    face: int | None
    face_found: bool
    box: tuple | None
    score: float | None
    probabilities: dict | None
    predicted: object = None
    prediction_set: tuple | None = None
    unsure: bool | None = None

    def _keys(self):
        """``image`` (the path, else the position), ``face``, ``face_found``."""
        return {
            "image": self.path if self.path is not None else self.image,
            "face": self.face,
            "face_found": self.face_found,
        }

    @property
    def source(self):
        """The image the face is in (its position): what :func:`draw_faces` draws one of."""
        return ("image", self.image)


class FaceRecords(FaceRecordsBase):
    """The records of :func:`analyze_faces`: a list of :class:`FaceRecord`, with what was analysed.

    Every image analysed has at least one record (one per face, or one saying no face was
    found), so the records say how many images there were. ``unreadable`` maps each file
    that could not be read (``on_error="skip"``) to the reason. ``to_csv``, ``to_dict``,
    ``to_frame`` (pandas) and ``to_parquet`` give one row per record, as
    :class:`fersk.VideoRecords` does.

    Attributes
    ----------
    classes : list or None
        The model's classes, the order of each record's probabilities (None for the records
        of :func:`face_inputs`, which classifies nothing).
    unreadable : dict
        Path -> reason, for each file that could not be read.
    coverage, abstain_precision : float or None
        As given to :func:`analyze_faces`: where set, the rows have a ``prediction_set`` and an
        ``unsure`` column.

    Examples
    --------
    >>> import io
    >>> records = FaceRecords([FaceRecord(0, "a.jpg", None, False, None, None, None)], classes=["happy", "sad"])
    >>> records.n_images, records.images_without_face
    (1, [0])
    >>> buffer = io.StringIO()
    >>> _ = records.to_csv(buffer, delimiter="\\t", na_rep="-")
    >>> buffer.getvalue().splitlines()[1]
    'a.jpg\\t-\\tFalse\\t-\\t-\\t-\\t-\\t-\\t-\\t-\\t-'
    """

    key_fields = ("image", "face", "face_found")

    def __init__(self, records=(), *, classes=None, unreadable=None, coverage=None, abstain_precision=None):
        super().__init__(records, classes=classes, coverage=coverage, abstain_precision=abstain_precision)
        self.unreadable = dict(unreadable or {})

    @property
    def n_images(self):
        """Images analysed."""
        return len({r.image for r in self})

    @property
    def images_without_face(self):
        """Position of each image in which no face was found (each has one record with
        ``face_found=False``)."""
        return [r.image for r in self if not r.face_found]

    def summary(self):
        """Counts: ``images``, ``faces``, ``images_without_face``, ``unreadable``, and
        ``predicted`` (class -> faces predicted as it, in the order of ``classes``)."""
        faces = [r for r in self if r.face_found]
        predicted = [r.predicted for r in faces if r.predicted is not None]
        order = self.classes or sorted(set(predicted), key=str)
        counts = {
            "images": self.n_images,
            "faces": len(faces),
            "images_without_face": len(self.images_without_face),
            "unreadable": len(self.unreadable),
            "predicted": {c: predicted.count(c) for c in order},
        }
        if self.coverage is not None:  # faces whose prediction set holds more than one class
            counts["faces_with_several_classes"] = sum(len(r.prediction_set or ()) > 1 for r in faces)
        if self.abstain_precision is not None:
            counts["unsure"] = sum(bool(r.unsure) for r in faces)
        return counts

    def describe(self):
        """What was found, in a few lines of text: the photos, their faces, and how many
        faces each class was predicted for.

        Examples
        --------
        >>> face = FaceRecord(0, "a.jpg", 0, True, (0, 0, 9, 9), 0.99, {"happy": 0.8, "sad": 0.2}, "happy")
        >>> print(FaceRecords([face], classes=["happy", "sad"]).describe())
        1 photo, 1 face, no face in 0, unreadable 0
        happy: 1 face
        sad: 0 faces
        """
        s = self.summary()
        lines = [
            f"{s['images']} photo{'s' * (s['images'] != 1)}, {s['faces']} face{'s' * (s['faces'] != 1)}, "
            f"no face in {s['images_without_face']}, unreadable {s['unreadable']}"
        ]
        lines += [f"{c}: {n} face{'s' * (n != 1)}" for c, n in s["predicted"].items()]
        if "faces_with_several_classes" in s:
            n = s["faces_with_several_classes"]
            lines.append(f"{self.coverage:.0%} prediction sets: {n} face{'s' * (n != 1)} with more than one class")
        if "unsure" in s:
            n = s["unsure"]
            lines.append(f"unsure at {self.abstain_precision:.0%} precision: {n} face{'s' * (n != 1)}")
        return "\n".join(lines)


def round_row(row, decimals, places=None):
    """``row`` with its floats rounded: boxes to a tenth of a pixel, a key of ``places`` to its number
    of decimals, the rest to ``decimals``."""
    if decimals is not None:
        places = {**dict.fromkeys(BOX_FIELDS, 1), **(places or {})}
        for key, value in row.items():
            if isinstance(value, float):
                row[key] = round(value, places.get(key, decimals))
    return row


def write_rows(path_or_buffer, rows, *, delimiter=",", na_rep="", fields=None):
    """Dict rows as CSV, to a path (written whole or not at all) or an open text file; ``fields``
    default: every key, in order."""
    fields = fields or list(dict.fromkeys(key for row in rows for key in row))
    rows = [{key: na_rep if row.get(key) is None else row[key] for key in fields} for row in rows]
    if isinstance(path_or_buffer, (str, Path)):
        # UTF-8 whatever the locale (Windows' cp1252 cannot write a photo named in Japanese), and a POSIX
        # file name that is not UTF-8 written back as the bytes it was
        with atomic_path(path_or_buffer) as tmp:
            with open(tmp, "w", newline="", encoding="utf-8", errors="surrogateescape") as handle:
                write_rows(handle, rows, delimiter=delimiter, fields=fields)
        return path_or_buffer
    writer = csv.DictWriter(path_or_buffer, fieldnames=fields, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return path_or_buffer


def plain_classes(estimator):
    """The estimator's ``classes_`` as plain Python values (numpy scalars unwrapped), for JSON and CSV."""
    return [c.item() if isinstance(c, np.generic) else c for c in estimator.classes_]
