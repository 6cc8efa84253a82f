"""What analyze_video returns: one record per face per analysed frame, and the list of them."""

import csv
from dataclasses import dataclass

import numpy as np

from ..faces import FaceRecordBase, FaceRecordsBase


@dataclass(frozen=True)
class FrameRecord(FaceRecordBase):
    """One face in one analysed frame of a video, as :func:`analyze_video` found it.

    The video counterpart of :class:`fersk.faces.FaceRecord` (so :func:`fersk.faces.draw_faces`
    draws it): a frozen dataclass whose :meth:`to_dict` gives one flat CSV/JSON row.

    Parameters
    ----------
    frame : int
        Index of the frame in the video, counting every frame from 0.
    time : float
        The frame's time in seconds from the first frame.
    face_id : int or None
        The face's track: the same face keeps its id from frame to frame. None in the one
        record of a frame without a face.
    face_found : bool
        False for the one record of an analysed frame in which no face was found.
    box : tuple of 4 floats or None
        ``(left, top, right, bottom)`` in the frame's pixels, as in :class:`fersk.Face`.
    score : float or None
        The detector's confidence.
    probabilities : dict or None
        Class -> probability, in the estimator's ``classes_`` order.
    predicted : label or None
        The class with the highest probability.
    detected : bool
        True where the detector ran on this frame; False where the box was carried or
        interpolated between detections (``detect_every > 1``), or where detection is off
        (``detector=None``).
    prediction_set : tuple or None
        With ``coverage``: the classes the face may be, most probable first (as in
        :class:`fersk.faces.FaceRecord`).
    unsure : bool or None
        With ``abstain_precision``: whether the top probability is below the model's threshold.
    """

    frame: int
    time: float
    face_id: int | None
    face_found: bool
    box: tuple | None
    score: float | None
    probabilities: dict | None
    predicted: object = None
    detected: bool = True
    prediction_set: tuple | None = None
    unsure: bool | None = None

    _places = {"time": 3}  # a millisecond, as fersk video writes frames.csv

    def _keys(self):
        """``frame``, ``time``, ``face_id``, ``face_found``, ``detected``."""
        row = dict(frame=self.frame, time=round(self.time, 6), face_id=self.face_id, face_found=self.face_found)
        row["detected"] = self.detected
        return row

    @property
    def source(self):
        """The frame the face is in: what :func:`fersk.faces.draw_faces` draws one of."""
        return ("frame", self.frame)


class VideoRecords(FaceRecordsBase):
    """The records of :func:`analyze_video` (a list of :class:`FrameRecord`, frame by frame),
    with what was analysed.

    ``to_csv``, ``to_dict``, ``to_frame`` (pandas) and ``to_parquet`` give one row per record,
    as :class:`fersk.faces.FaceRecords` does; ``to_csv(path, decimals=4)`` is what
    ``fersk video`` writes as ``frames.csv``. When :func:`analyze_video` wrote the records to
    a file as it made them (``out=``), the list is empty and ``written_to`` names the file;
    ``summary``, ``describe`` and ``face_ids`` still answer, from running totals.

    Attributes
    ----------
    path : str
    info : VideoInfo
        The video's frame rate, frame count and size.
    classes : list
        The estimator's classes, the order of each record's probabilities.
    frames_analysed : list of int
        Index of every analysed frame.
    frames_without_face : list of int
        Index of every analysed frame without a face (each has one record with
        ``face_found=False``): frames where the detector found none, and, with
        ``detect_every > 1``, frames between detections when no face was being tracked.
    detect_every : int
        The detector ran on every ``detect_every``-th analysed frame (``"auto"`` resolved).
    unreadable : dict
        ``path -> reason`` when, with ``on_error="skip"``, the video could not be read to its
        end (``info`` is None when it could not be opened at all); empty otherwise.
    written_to : str or None
        The CSV file the records were written to as they were made, or None (they are here).
    """

    key_fields = ("frame", "time", "face_id", "face_found", "detected")

    def __init__(
        self,
        records,
        *,
        path,
        info,
        classes,
        frames_analysed,
        frames_without_face,
        detect_every=1,
        unreadable=None,
        coverage=None,
        abstain_precision=None,
        written_to=None,
        summary=None,
    ):
        super().__init__(records, classes=classes, coverage=coverage, abstain_precision=abstain_precision)
        self.written_to = written_to
        self._summary = summary
        self.unreadable = dict(unreadable or {})
        self.detect_every = detect_every
        self.path = path
        self.info = info
        self.frames_analysed = frames_analysed
        self.frames_without_face = frames_without_face

    def to_dict(self, decimals=None):
        """One flat row per record (see ``to_dict`` of the records); ``to_csv``, ``to_frame`` and
        ``to_parquet`` go through it.

        Raises
        ------
        ValueError
            When the records were written to a file as they were made (``written_to``), and
            are not here.
        """
        self.check_kept("its rows")
        return super().to_dict(decimals=decimals)

    def check_kept(self, what):
        """Raise a ValueError saying where the records are, when they went to a file instead of here."""
        if self.written_to is not None and not len(self):
            raise ValueError(
                f"{what}: analyze_video wrote the records to {self.written_to} as it made them (out=), and they "
                "are not here; read that file (pandas.read_csv), or analyse again without out="
            )

    @property
    def face_ids(self):
        """The ids of the faces tracked, in order of appearance."""
        if self._summary is not None:
            return sorted(self._summary)
        return sorted({r.face_id for r in self if r.face_id is not None})

    def summary(self):
        """Per face id: ``frames`` (analysed frames it is in), ``first`` and ``last`` time in
        seconds, ``dominant`` (the class of highest mean probability) and ``mean`` (the mean
        probability of each class)."""
        if self._summary is not None:  # the records went to a file as they were made: their running totals
            return self._summary
        totals = FaceTotals(self.classes)
        totals.add(self)
        return totals.summary()

    def describe(self):
        """What was found, in a few lines of text (what ``fersk video`` prints): the frames
        analysed, the faces tracked, and each face's dominant emotion, its mean probability
        and when the face was seen."""
        summary = self.summary()
        lines = [
            f"{self.path}: {len(self.frames_analysed)} frame{'' if len(self.frames_analysed) == 1 else 's'} "
            f"analysed, {len(summary)} face{'' if len(summary) == 1 else 's'} tracked, no face in "
            f"{len(self.frames_without_face)}"
        ]
        for fid, face in summary.items():
            frames = f"{face['frames']} frame" + "s" * (face["frames"] != 1)
            lines.append(
                f"face {fid}: {face['dominant']} ({face['mean'][face['dominant']]:.0%} on average) in {frames}, "
                f"{face['first']:.2f}-{face['last']:.2f} s"
            )
        return "\n".join(lines)


class FaceTotals:
    """Each face's analysed frames, first and last time and summed probabilities, record by record:
    what ``VideoRecords.summary`` gives, in one pass, from records kept or written away.

    Parameters
    ----------
    classes : list
        The estimator's classes.
    """

    def __init__(self, classes):
        self.classes = list(classes)
        self.faces = {}

    def add(self, records):
        """Count ``records`` (FrameRecord, in time order) in."""
        for record in records:
            if record.face_id is None or record.probabilities is None:
                continue
            face = self.faces.setdefault(record.face_id, {"frames": 0, "first": record.time, "sum": 0.0})
            face["frames"] += 1
            face["last"] = record.time
            face["sum"] = face["sum"] + np.array([record.probabilities[c] for c in self.classes])

    def summary(self):
        """Per face id: ``frames``, ``first``, ``last``, ``dominant`` and ``mean`` (see ``VideoRecords.summary``)."""
        out = {}
        for fid in sorted(self.faces):
            face = self.faces[fid]
            mean = face["sum"] / face["frames"]
            out[fid] = {
                "frames": face["frames"],
                "first": face["first"],
                "last": face["last"],
                "dominant": self.classes[int(np.argmax(mean))],
                "mean": dict(zip(self.classes, mean.round(4).tolist())),
            }
        return out


class RecordWriter:
    """Records written to an open CSV file as they are made, with each face's running totals
    (:class:`FaceTotals`).

    What :func:`analyze_video` keeps instead of the records when it writes them to a file: the
    memory it needs does not grow with the video's length.

    Parameters
    ----------
    handle : text file
        Open for writing.
    fields : list of str
        The columns, as ``VideoRecords.fields()`` gives them.
    classes : list
        The estimator's classes.
    """

    def __init__(self, handle, fields, classes):
        self.writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        self.writer.writeheader()
        self.totals = FaceTotals(classes)

    def add(self, records):
        """Write ``records`` (a list of FrameRecord) and count them in."""
        self.writer.writerows(record.to_dict() for record in records)
        self.totals.add(records)

    def summary(self):
        """Per face id, what ``VideoRecords.summary`` gives."""
        return self.totals.summary()
