"""Every face in a photo, with its box and the model's probabilities; and the photo with them drawn on it."""

import csv
import math
import warnings
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..datasets import FerskDataWarning
from ._crop import crop_face, photo_faces, whole_image
from ._image import as_image, read_image

ON_MISSING = ("whole", "skip")
ON_ERROR = ("raise", "skip")
BOX_FIELDS = ("left", "top", "right", "bottom")


@dataclass(frozen=True)
class FaceRecord:
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

    Examples
    --------
    >>> record = FaceRecord(0, "a.jpg", 0, True, (1, 2, 3, 4), 0.9, {"happy": 0.75, "sad": 0.25}, "happy")
    >>> record.to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'image': 'a.jpg', 'face': 0, 'face_found': True, 'left': 1, 'top': 2, 'right': 3, 'bottom': 4,
     'score': 0.9, 'predicted': 'happy', 'happy': 0.75, 'sad': 0.25}
    """

    image: int
    path: str | None
    face: int | None
    face_found: bool
    box: tuple | None
    score: float | None
    probabilities: dict | None
    predicted: object = None

    @property
    def probability(self):
        """The probability of the predicted class (None when nothing was classified)."""
        return None if self.probabilities is None else self.probabilities[self.predicted]

    def to_dict(self, decimals=None):
        """The record as one flat row: ``image`` (the path, else the position), ``face``,
        ``face_found``, ``left``, ``top``, ``right``, ``bottom``, ``score``, ``predicted``,
        then one column per class. Missing values are None.

        With ``decimals``, the score and probabilities are rounded to that many decimals and
        the box to a tenth of a pixel, as ``fersk predict`` prints them.

        Examples
        --------
        >>> record = FaceRecord(0, "a.jpg", 0, True, (40.04, 30.0, 90.0, 95.0), 0.99871, {"happy": 0.91234}, "happy")
        >>> record.to_dict(decimals=2)["left"], record.to_dict(decimals=2)["happy"]
        (40.0, 0.91)
        """
        box = self.box if self.box is not None else (None,) * 4
        row = {"image": self.path if self.path is not None else self.image, "face": self.face}
        row["face_found"] = self.face_found
        row.update(zip(BOX_FIELDS, box))
        row.update(score=self.score, predicted=self.predicted)
        row.update(self.probabilities or {})
        return round_row(row, decimals)


def analyze_faces(
    estimator,
    images,
    *,
    detector="mtcnn",
    align=True,
    margin=0.1,
    on_missing="whole",
    on_error="raise",
    n_jobs=-1,
    progress=None,
):
    """Find every face in each image and classify it: one record per face per image.

    The faces of all images are detected (on every core), cut out at the estimator's
    input shape (framed like FER2013's faces, grayscale or RGB as the estimator was
    fitted) and classified together in one ``predict_proba`` call.

    Images that are already face crops (FER2013's 48x48 faces, a folder of crops): pass
    ``detector=None`` to turn detection off; each whole image is then the face, resized
    to the estimator's input as the loaders resize images (its box is the whole image).
    With a detector on, an image in which no face is found, such as a small crop the
    detector misses, is never dropped: by default (``on_missing="whole"``) its centre
    square is classified, as :class:`~fersk.FaceCropper` and :func:`~fersk.preprocessing.crop_faces`
    use it, and its one record says ``face_found=False``.

    Parameters
    ----------
    estimator : fitted fersk classifier, or Pipeline ending in one
        Anything with ``predict_proba`` and ``classes_`` whose last step has
        ``image_shape_`` (the crop shape and grayscale/RGB follow it). A Pipeline with a
        :class:`~fersk.FaceCropper` finds faces with that step's detector and framing
        (``detector``, ``align`` and ``margin`` are then left out, or must agree with
        it), and classifies them with the steps after it: no face is searched for twice
        (:func:`split_face_cropper`).
    images : list of paths, PIL images or arrays, a path, a PIL image, or an array
        Paths are read upright with :func:`read_image`, and PIL images converted as it
        converts them. Arrays hold pixel values 0-255 (0-1 is refused, as a face is found
        in no such image): one image ``(h, w, 3)`` / ``(h, w, 4)``, or ``(h, w)`` grayscale; a stack
        ``(n, h, w, c)`` or ``(n, h, w)``; or flattened rows ``(n, h * w * c)`` of the
        estimator's ``image_shape_`` (such as FER2013's ``data``).
    detector : str, FaceDetector or None, default="mtcnn"
        ``"mtcnn"``, ``"lbp"`` or another name from :func:`list_detectors`, or a detector
        object such as ``MTCNNDetector(min_face_size=40)``; None (or ``"none"``): no
        detection, each whole image is one face.
    align : bool, default=True
        Level the eyes and frame each face as FER2013 frames its faces (see
        :func:`extract_face`); False crops the detector's box, made square.
    margin : float, default=0.1
        Context around each face, as a fraction of its side (see :func:`extract_face`);
        0.1 aligned is the framing chosen on muxspace val, as :class:`fersk.FaceCropper`'s.
    on_missing : {"whole", "skip"}, default="whole"
        An image with no face gives one record with ``face_found=False``, ``face`` and
        ``box`` None; ``"whole"`` classifies the whole image for it (its centre square,
        as every door of fersk does: :func:`crop_face` with ``face=None``), ``"skip"``
        leaves its ``probabilities`` and ``predicted`` None.
    on_error : {"raise", "skip"}, default="raise"
        A file that cannot be read (missing, not an image, corrupt; see :func:`read_image`)
        raises a ``ValueError`` naming it; ``"skip"`` goes on with the other images, leaves
        it without a record, lists it in the records' ``unreadable`` and counts it in a
        :class:`fersk.FerskDataWarning`.
    n_jobs : int, optional, default=-1
        Processes for detection (:func:`detect_faces_batch`); -1: every core, None: this
        process only. Fewer than 8 images are always detected in this process: starting
        the workers would cost more than they save.
    progress : bool or None, default=None
        A progress bar (tqdm) on stderr, counting the images whose faces were found; None
        shows it only on a terminal. Images are read and searched a few dozen at a time,
        so that a folder of large photos need not fit in memory.

    Returns
    -------
    FaceRecords
        A list of :class:`FaceRecord`, image by image in the order given, each image's
        faces largest first; ``.to_csv(path)`` writes them.

    Raises
    ------
    ValueError
        Naming the file, for a missing or unreadable image (see :func:`read_image`),
        unless ``on_error="skip"``.

    Warns
    -----
    FerskDataWarning
        With ``on_error="skip"``, naming the files that could not be read.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.data import astronaut
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(70, image_size=24, random_state=0)
    >>> model = CNNClassifier(max_epochs=1, module__channels=(4, 8), module__hidden=8).fit(X, y)
    >>> small = np.pad(astronaut()[::2, ::2], ((0, 256), (0, 256), (0, 0)), mode="edge")
    >>> two = np.concatenate([astronaut(), small], axis=1)  # a large face at left, a small one at right
    >>> records = analyze_faces(model, [two, np.zeros((48, 48))], n_jobs=None)
    >>> [(r.image, r.face, r.face_found) for r in records]
    [(0, 0, True), (0, 1, True), (1, None, False)]
    >>> records[0].box[0] < 512 < records[1].box[0]  # largest first
    True
    >>> sorted(records[0].probabilities) == sorted(model.classes_)
    True
    """
    X, records = face_inputs(
        estimator,
        images,
        detector=detector,
        align=align,
        margin=margin,
        on_missing=on_missing,
        on_error=on_error,
        n_jobs=n_jobs,
        progress=progress,
    )
    model, _ = split_face_cropper(estimator)
    proba = np.asarray(model.predict_proba(X)) if len(X) else None
    classes = [_plain(c) for c in model.classes_]
    rows = iter(range(len(X)))
    for n, record in enumerate(records):
        if record.face_found or on_missing == "whole":
            k = next(rows)
            probabilities = dict(zip(classes, proba[k].astype(float).tolist()))
            records[n] = replace(record, probabilities=probabilities, predicted=classes[int(np.argmax(proba[k]))])
    return records


def face_inputs(
    estimator,
    images,
    *,
    detector="mtcnn",
    align=True,
    margin=0.1,
    on_missing="whole",
    on_error="raise",
    n_jobs=-1,
    progress=None,
):
    """The faces :func:`analyze_faces` classifies, as rows the estimator takes, with their records.

    Everything :func:`analyze_faces` does but the classification: each image's faces are found,
    cut out at the estimator's input shape (framed like FER2013's faces) and flattened, so
    that they can go to :func:`fersk.explain.explain`, ``transform`` or any other method.

    Parameters
    ----------
    estimator, images, detector, align, margin, on_missing, on_error, n_jobs, progress
        As for :func:`analyze_faces`.

    Returns
    -------
    X : ndarray of shape (n_faces, h * w * c), float32
        One row per record, in order, but for those of images without a face when
        ``on_missing="skip"``: pixel values 0-255 at the estimator's ``image_shape_``.
    records : FaceRecords
        As :func:`analyze_faces` gives them, without probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.data import astronaut
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(70, image_size=24, random_state=0)
    >>> model = CNNClassifier(max_epochs=1, module__channels=(4, 8), module__hidden=8).fit(X, y)
    >>> faces, records = face_inputs(model, [astronaut()])
    >>> faces.shape, [(r.face, r.face_found) for r in records]
    ((1, 576), [(0, True)])
    """
    if on_missing not in ON_MISSING:
        raise ValueError(f"on_missing must be one of {ON_MISSING}, got {on_missing!r}")
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    model, framing = split_face_cropper(estimator, detector=detector, align=align, margin=margin)
    detector, align, margin = framing["detector"], framing["align"], framing["margin"]
    shape = _input_shape(model)
    items, paths = _as_items(images, shape)

    records, crops, unreadable, done = [], [], {}, 0
    with _progress(progress, len(items)) as bar:
        for chunk in photo_faces(items, detector=detector, n_jobs=n_jobs, on_error=on_error, unreadable=unreadable):
            for i, photo, faces in chunk:
                if faces is None:  # no detection: the whole image is the face, its box the whole image
                    h, w = photo.shape[:2]
                    records.append(FaceRecord(i, paths[i], 0, True, (0.0, 0.0, float(w), float(h)), None, None))
                    crops.append(whole_image(photo, shape))
                for j, face in enumerate(faces or ()):
                    records.append(FaceRecord(i, paths[i], j, True, face.box, face.score, None))
                    crops.append(crop_face(photo, face, shape, align=align, margin=margin))
                if not faces and faces is not None:
                    records.append(FaceRecord(i, paths[i], None, False, None, None, None))
                    if on_missing == "whole":
                        crops.append(crop_face(photo, None, shape))
            bar.update(chunk[-1][0] + 1 - done)  # the images up to the chunk's last, unreadable ones too
            done = chunk[-1][0] + 1
    if unreadable:
        shown = "; ".join(f"{path} ({reason})" for path, reason in list(unreadable.items())[:10])
        warnings.warn(
            f"skipped {len(unreadable)} of {len(items)} images that cannot be read: {shown}"
            + ("; ..." if len(unreadable) > 10 else "")
            + "; the records' unreadable lists them",
            FerskDataWarning,
            stacklevel=3,
        )
    h, w, c = shape
    X = np.stack(crops).reshape(len(crops), -1) if crops else np.empty((0, h * w * c))
    return X.astype(np.float32), FaceRecords(records, unreadable=unreadable)


def split_face_cropper(estimator, *, detector="mtcnn", align=True, margin=0.1):
    """A model, split into how faces are found for it and what classifies them.

    A saved ``Pipeline(FaceCropper(), classifier)`` would look for a face again in each face
    that :func:`analyze_faces` or :func:`fersk.analyze_video` cut out. They use the
    pipeline's own detector and framing instead, and classify with the steps after it.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
    detector, align, margin
        The caller's settings (as in :func:`analyze_faces`): used for a model without a
        face cropper; for one with a face cropper, each must be left at its default or
        agree with the cropper's.

    Returns
    -------
    model : estimator
        ``estimator`` itself, or the pipeline's steps after its face cropper.
    framing : dict
        ``detector``, ``align`` and ``margin`` to find and cut out faces with.

    Raises
    ------
    ValueError
        When a setting given contradicts the pipeline's face cropper, saying how to set it there.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> from fersk import FaceCropper
    >>> model, framing = split_face_cropper(make_pipeline(FaceCropper(detector="lbp"), LogisticRegression()))
    >>> model, framing["detector"]
    (Pipeline(steps=[('logisticregression', LogisticRegression())]), 'lbp')
    >>> split_face_cropper(LogisticRegression(), margin=0.2)[1]
    {'detector': 'mtcnn', 'align': True, 'margin': 0.2}
    """
    given = {"detector": detector, "align": align, "margin": margin}
    steps = getattr(estimator, "steps", None) or []
    croppers = [k for k, (_, step) in enumerate(steps) if hasattr(step, "face_framing")]
    if not croppers:
        return estimator, given
    k = croppers[-1]
    name, framing = steps[k][0], steps[k][1].face_framing()
    defaults = {"detector": "mtcnn", "align": True, "margin": 0.1}
    clashes = [key for key, value in given.items() if value != defaults[key] and value != framing[key]]
    if clashes:
        setting = ", ".join(f"{key}={given[key]!r}" for key in clashes)
        routed = ", ".join(f"{name}__{key}={given[key]!r}" for key in clashes)
        raise ValueError(
            f"this model is a Pipeline that finds faces with its own FaceCropper ({name!r}), and {setting} asks "
            f"for another way; set it on the pipeline, model.set_params({routed}), or leave it out"
        )
    return estimator[k + 1 :], framing


def _progress(progress, total):
    from tqdm.auto import tqdm

    disable = None if progress is None else not progress
    return tqdm(total=total, desc="finding faces", unit="image", disable=disable, leave=False)


class FaceRecords(list):
    """The records of :func:`analyze_faces`: a list of :class:`FaceRecord`, with what was analysed.

    Every image analysed has at least one record (one per face, or one saying no face was
    found), so the records say how many images there were. ``unreadable`` maps each file
    that could not be read (``on_error="skip"``) to the reason.

    Examples
    --------
    >>> import io
    >>> records = FaceRecords([FaceRecord(0, "a.jpg", None, False, None, None, None)])
    >>> records.n_images, records.images_without_face
    (1, [0])
    >>> buffer = io.StringIO()
    >>> _ = records.to_csv(buffer, delimiter="\\t", na_rep="-")
    >>> buffer.getvalue().splitlines()[1]
    'a.jpg\\t-\\tFalse\\t-\\t-\\t-\\t-\\t-\\t-'
    """

    def __init__(self, records=(), *, unreadable=None):
        super().__init__(records)
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

    def to_csv(self, path_or_buffer, *, delimiter=",", decimals=None, na_rep=""):
        """Write one row per record (:meth:`FaceRecord.to_dict`), with a header.

        Parameters
        ----------
        path_or_buffer : str, path-like or text file
            Where to write: a file path (created or replaced, in UTF-8), or an open text
            file such as ``sys.stdout``.
        delimiter : str, default=","
        decimals : int, optional
            Round as :meth:`FaceRecord.to_dict` does.
        na_rep : str, default=""
            Written for missing values (no face: no box, no score).

        Returns
        -------
        path_or_buffer
        """
        rows = [r.to_dict(decimals=decimals) for r in self]
        return write_rows(path_or_buffer, rows, delimiter=delimiter, na_rep=na_rep)


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
    """Dict rows as CSV, to a path or an open text file; ``fields`` default: every key, in order."""
    fields = fields or list(dict.fromkeys(key for row in rows for key in row))
    rows = [{key: na_rep if row.get(key) is None else row[key] for key in fields} for row in rows]
    if isinstance(path_or_buffer, (str, Path)):
        # UTF-8 whatever the locale (Windows' cp1252 cannot write a photo named in Japanese), and a POSIX
        # file name that is not UTF-8 written back as the bytes it was
        with open(path_or_buffer, "w", newline="", encoding="utf-8", errors="surrogateescape") as handle:
            write_rows(handle, rows, delimiter=delimiter, fields=fields)
        return path_or_buffer
    writer = csv.DictWriter(path_or_buffer, fieldnames=fields, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return path_or_buffer


def _input_shape(estimator):
    """``(h, w, c)`` of the estimator's input: its own ``image_shape_`` or its last step's."""
    last = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    shape = getattr(last, "image_shape_", None)
    if shape is None or not hasattr(estimator, "predict_proba"):
        raise ValueError(
            f"analyze_faces needs a fitted fersk classifier (or a Pipeline ending in one) with image_shape_ "
            f"and predict_proba; got {type(estimator).__name__}"
        )
    h, w, *c = (int(v) for v in shape)
    return h, w, (c[0] if c else 1)


def _as_items(images, shape):
    """The images as a list (paths or arrays) and the path of each (None for arrays)."""
    if isinstance(images, (str, Path, Image.Image)):
        images = [images]
    elif isinstance(images, np.ndarray):
        h, w, c = shape
        if images.ndim == 2 and images.shape[1] == h * w * c and images.shape != (h, w * c):
            images = list(images.reshape(len(images), h, w, c))  # flattened rows
        elif images.ndim == 2 or (images.ndim == 3 and images.shape[2] in (3, 4)):
            images = [images]  # one image
        elif images.ndim in (3, 4):
            images = list(images)
        else:
            raise ValueError(f"images must be a list of paths or images, or an array of them; got shape {images.shape}")
    images = list(images)
    return images, [str(item) if isinstance(item, (str, Path)) else None for item in images]


def _plain(value):
    """A numpy scalar as the Python value (so records serialise to JSON)."""
    return value.item() if isinstance(value, np.generic) else value


# -- drawing ----------------------------------------------------------------------------

# one colour per emotion (RGB), so a face's label reads at a glance and stays the same across frames
COLOURS = {
    "angry": (230, 57, 70),
    "disgust": (106, 153, 78),
    "fear": (155, 93, 229),
    "happy": (255, 190, 11),
    "sad": (58, 134, 255),
    "surprise": (0, 200, 200),
    "neutral": (220, 220, 220),
    "contempt": (251, 133, 0),
}
MAX_DRAWN = 4096  # draw_faces enlarges a small image's longer side to this at most
_PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]


def draw_faces(image, records, *, min_size=256):
    """The image with each face's box and label (emotion and probability) drawn on it.

    Line width and font size follow the image's size, so labels read on 128-pixel photos
    and on large ones alike. An image whose record says no face was found gets its label
    ("no face", and the whole image's prediction when it was classified) in its top-left
    corner.

    Parameters
    ----------
    image : path or array
        The image the records were made from (pixel values 0-255).
    records : list of FaceRecord
        The image's records from :func:`analyze_faces`: for image ``i`` of several,
        ``[r for r in records if r.image == i]`` (the records of several images are refused).
    min_size : int, default=256
        Images whose shorter side is smaller are enlarged by a whole factor first (boxes
        with them), so that labels stay readable, as far as a longer side of 4096 pixels; 0
        keeps every image's size.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
        RGB; ``(H, W)`` is the image's size times the enlargement factor (1 for most photos).

    Examples
    --------
    >>> import numpy as np
    >>> from fersk.faces import FaceRecord
    >>> record = FaceRecord(0, None, 0, True, (40, 30, 90, 95), 0.99, {"happy": 0.9, "sad": 0.1}, "happy")
    >>> drawn = draw_faces(np.zeros((128, 160, 3)), [record])
    >>> drawn.shape, drawn.dtype  # enlarged twice, to a shorter side of at least 256
    ((256, 320, 3), dtype('uint8'))
    >>> drawn[60:190, 80].max(axis=0).tolist()  # the box's left edge, in happy's colour
    [255, 190, 11]
    """
    shown = {(getattr(r, "image", None), getattr(r, "frame", None)) for r in records}
    if len(shown) > 1:
        raise ValueError(
            f"records of {len(shown)} images (or frames) given to draw one image: pass the image's own, "
            "[r for r in records if r.image == i], or draw them all with write_annotated"
        )
    photo = read_image(image) if isinstance(image, (str, Path)) else as_image(image)
    picture = Image.fromarray(np.clip(np.round(photo), 0, 255).astype(np.uint8)).convert("RGB")
    factor = max(1, math.ceil(min_size / min(picture.size))) if min_size else 1
    factor = max(1, min(factor, MAX_DRAWN // max(picture.size)))  # a 500x2 banner: not 64000 pixels wide
    if factor > 1:
        picture = picture.resize((picture.width * factor, picture.height * factor), Image.Resampling.BICUBIC)
    side = min(picture.size)
    line = max(2, round(side / 200))
    font = _font(max(11, round(side / 24)))
    draw = ImageDraw.Draw(picture)
    for record in records:
        colour = _colour(record.predicted)
        if record.box is None:
            text = "no face" if record.predicted is None else f"no face: {_label(record)}"
            _draw_label(draw, text, (0, 0), colour, font, picture.size, line)
            continue
        left, top, right, bottom = (v * factor for v in record.box)
        draw.rectangle((left, top, right - 1, bottom - 1), outline=colour, width=line)
        if record.predicted is not None:
            _draw_label(draw, _label(record), (left, top), colour, font, picture.size, line)
    return np.asarray(picture)


def write_annotated(images, records, folder):
    """Write each image with its faces drawn (:func:`draw_faces`) as ``folder/<name>.png``.

    Parameters
    ----------
    images : list of paths or arrays
        The images the records were made from, in order.
    records : list of FaceRecord
        From :func:`analyze_faces` on ``images``.
    folder : str or Path
        Created when missing. A file is named after its image (``image-<i>`` for arrays, and
        ``<name>-<i>`` when two images share a name); a folder where that would overwrite
        one of the images (a PNG's own folder) is refused before anything is written.

    Returns
    -------
    list of Path
        The files written, one per image that has records (an image :func:`analyze_faces`
        skipped as unreadable has none).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> record = FaceRecord(0, None, None, False, None, None, None)
    >>> [p.name for p in write_annotated([np.zeros((64, 64))], [record], tempfile.mkdtemp())]
    ['image-0.png']
    """
    folder = Path(folder)
    by_image = defaultdict(list)
    for record in records:
        by_image[record.image].append(record)
    targets, used = {}, set()
    for i, image in enumerate(images):
        if i not in by_image:  # not analysed: a file analyze_faces skipped (on_error="skip")
            continue
        name = Path(image).stem if isinstance(image, (str, Path)) else f"image-{i}"
        if name in used:  # two photos of one name from different folders
            name = f"{name}-{i}"
        used.add(name)
        targets[i] = folder / f"{name}.png"
    photos = {Path(image).resolve() for image in images if isinstance(image, (str, Path))}
    overwritten = [str(path) for path in targets.values() if path.resolve() in photos]
    if overwritten:
        raise ValueError(
            f"the annotated photos would overwrite the photos {', '.join(overwritten)}: choose another folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for i, path in targets.items():
        Image.fromarray(draw_faces(images[i], by_image[i])).save(path)
    return list(targets.values())


def _label(record):
    return f"{record.predicted} {record.probability:.0%}"


def _colour(label):
    if label is None:
        return (200, 200, 200)
    return COLOURS.get(str(label).lower(), _PALETTE[sum(map(ord, str(label))) % len(_PALETTE)])


def _font(size):
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled scalable font (needs FreeType)
    except (TypeError, OSError, ImportError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _draw_label(draw, text, corner, colour, font, size, line):
    """Text on a filled band in the box's colour: above the box's top-left corner, inside it when there is no room."""
    left, top = corner
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    pad = max(1, line // 2)
    width, height = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    x = min(max(0, left), max(0, size[0] - width))
    y = top - height if top - height >= 0 else max(0, top)
    draw.rectangle((x, y, x + width, y + height), fill=colour)
    ink = (0, 0, 0) if sum(colour) > 380 else (255, 255, 255)
    draw.text((x + pad - x0, y + pad - y0), text, fill=ink, font=font)
