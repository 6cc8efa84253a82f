"""Every face in each photo, found, cut out and classified: one record per face."""

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from ..exceptions import FerskDataWarning
from ._answers import classify_faces, prediction_answers
from ._crop import crop_face, model_input_shape, photo_faces, whole_image
from ._records import FaceRecord, FaceRecords, plain_classes

ON_MISSING = ("whole", "skip", "error")
ON_ERROR = ("raise", "skip")


def analyze_faces(
    estimator,
    images,
    *,
    detector="mtcnn",
    align=True,
    margin=0.1,
    on_missing="whole",
    on_error="raise",
    batch_size=64,
    n_jobs=-1,
    progress=None,
    coverage=None,
    abstain_precision=None,
):
    """Find every face in each image and classify it: one record per face per image.

    The faces of all images are detected (on every core), cut out at the estimator's
    input shape (framed like FER2013's faces, grayscale or RGB as the estimator was
    fitted) and classified ``batch_size`` faces per ``predict_proba`` call.

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
    on_missing : {"whole", "skip", "error"}, default="whole"
        An image with no face gives one record with ``face_found=False``, ``face`` and
        ``box`` None; ``"whole"`` classifies the whole image for it (its centre square,
        as every door of fersk does: :func:`crop_face` with ``face=None``), ``"skip"``
        leaves its ``probabilities`` and ``predicted`` None, ``"error"`` raises a
        ``ValueError`` naming the images. The same words as :class:`~fersk.FaceCropper`'s
        and :func:`~fersk.preprocessing.crop_faces`'s.
    on_error : {"raise", "skip"}, default="raise"
        A file that cannot be read (missing, not an image, corrupt; see :func:`read_image`)
        raises a ``ValueError`` naming it; ``"skip"`` goes on with the other images, leaves
        it without a record, lists it in the records' ``unreadable`` and counts it in a
        :class:`fersk.FerskDataWarning`.
    batch_size : int, default=64
        Faces classified per ``predict_proba`` call (as in :func:`fersk.analyze_video`).
    n_jobs : int, optional, default=-1
        Processes for detection (:func:`detect_faces_batch`); -1: every core, None: this
        process only. Fewer than 8 images are always detected in this process: starting
        the workers would cost more than they save.
    progress : bool or None, default=None
        A progress bar (tqdm) on stderr, counting the images whose faces were found; None
        shows it only on a terminal. Images are read and searched a few dozen at a time,
        so that a folder of large photos need not fit in memory.
    coverage : float, optional
        Give each face a prediction set (its record's ``prediction_set``): the classes it may
        be, most probable first, a set that holds the true class this often (0.9: nine faces
        in ten) on faces like the model's validation faces; split conformal prediction on the
        scores :func:`fersk.calibrate` stored in the model (:func:`prediction_answers`).
    abstain_precision : float, optional
        Say "unsure" (the record's ``unsure``) for each face whose top probability is below
        the threshold at which the model's validation answers were right this often.

    Returns
    -------
    FaceRecords
        A list of :class:`FaceRecord`, image by image in the order given, each image's
        faces largest first; ``.to_csv(path)`` writes them.

    Raises
    ------
    ValueError
        Naming the file, for a missing or unreadable image (see :func:`read_image`),
        unless ``on_error="skip"``; before any image is read, for ``coverage`` or
        ``abstain_precision`` with a model that holds no calibration scores (saying how to
        fit them: :func:`fersk.calibrate`).

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
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
    model, _ = split_face_cropper(estimator, detector=detector, align=align, margin=margin)
    asked = {"coverage": coverage, "abstain_precision": abstain_precision}
    prediction_answers(model, None, **asked)  # a model without calibration scores is said before the work
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
    proba, answers = classify_faces(model, X, batch_size=batch_size, **asked)
    classes = plain_classes(model)
    records.classes = classes
    records.coverage, records.abstain_precision = coverage, abstain_precision
    rows = iter(range(len(X)))
    for n, record in enumerate(records):
        if record.face_found or on_missing == "whole":
            k = next(rows)
            probabilities = dict(zip(classes, proba[k].astype(float).tolist()))
            predicted = classes[int(np.argmax(proba[k]))]
            records[n] = replace(record, probabilities=probabilities, predicted=predicted, **answers[k])
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
    shape = model_input_shape(model)
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
    faceless = [r.path if r.path is not None else r.image for r in records if not r.face_found]
    if faceless and on_missing == "error":
        shown = ", ".join(map(str, faceless[:10])) + (", ..." if len(faceless) > 10 else "")
        raise ValueError(
            f"no face found in {len(faceless)} of {len(items)} images ({shown}); use on_missing='whole' to "
            "classify each one's centre square, or 'skip' to leave it unclassified"
        )
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
