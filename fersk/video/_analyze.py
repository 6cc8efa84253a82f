"""Every face of every analysed frame of a video: tracked, classified, written as rows."""

import contextlib
import math
import numbers
import warnings

import numpy as np

from .._atomic import atomic_path
from ..exceptions import FerskDataWarning, VideoReadError
from ..faces import (
    Face,
    classify_faces,
    crop_face,
    get_detector,
    model_input_shape,
    no_detection,
    plain_classes,
    prediction_answers,
    split_face_cropper,
    whole_image,
)
from ._reader import check_sampling, iter_frames, progress_bar, video_info
from ._records import FrameRecord, RecordWriter, VideoRecords
from ._track import IoUTracker, interpolate

ON_MISSING = ("skip", "whole", "error")  # the words of analyze_faces
ON_ERROR = ("raise", "skip")  # likewise
# frames the detector searches in one call: batched through MTCNN's networks in this process, or shared
# among worker processes (n_jobs); the frames between them wait in memory, so it stays small
DETECTION_GROUP = 8
DETECTIONS_PER_SECOND = 5  # detect_every="auto": the detector runs about this often per second of video


def analyze_video(
    estimator,
    path,
    *,
    every=1,
    fps=None,
    detector="mtcnn",
    detect_every="auto",
    align=True,
    margin=0.1,
    min_iou=0.3,
    on_missing="skip",
    on_error="raise",
    batch_size=64,
    n_jobs=-1,
    progress=None,
    coverage=None,
    abstain_precision=None,
    start=None,
    end=None,
    out=None,
):
    """Find, follow and classify every face of a video: one record per face per analysed frame.

    Frames are decoded with PyAV (FFmpeg inside its wheel, on every core). Each analysed
    frame's faces are found with ``detector``, given an id that they keep from frame to
    frame (:class:`IoUTracker`: the boxes of one face overlap, or lie close, once moved on at
    the face's speed), cut out at the estimator's input shape as
    :func:`fersk.faces.analyze_faces` cuts them, and classified in batches.

    Parameters
    ----------
    estimator : fitted fersk classifier, or Pipeline ending in one
        As for :func:`fersk.faces.analyze_faces`.
    path : str or path-like
        A video file (MP4, MKV, AVI, WebM, MOV... anything FFmpeg reads).
    every : int, default=1
        Analyse every ``every``-th frame (0, every, 2 * every...).
    fps : float, optional
        Instead of ``every``: analyse about this many frames per second of video (the first
        frame at or after each multiple of ``1 / fps`` seconds).
    detector : str, FaceDetector or None, default="mtcnn"
        As for :func:`fersk.detect_faces`. None: no detection, as for
        :func:`fersk.analyze_faces`: each analysed frame is the face (a video of a face
        already cut out), resized whole, one record per frame with face id 0.
    detect_every : int or "auto", default="auto"
        Run the detector on every ``detect_every``-th analysed frame only; in between, each
        face's box and landmarks are interpolated between its two detections (carried from
        the last one when the face is not found again, or after the last detection), and
        every analysed frame is still classified. ``"auto"`` detects about five times per
        second of video: every fifth frame of a 25 fps video analysed frame by frame, every
        frame when ``fps=5`` or less. The detector is most of the cost: at 640x360 on 2 cores,
        ``detect_every=5`` runs in real time (32 frames per second with the default model)
        against 7.0 detecting on every frame (``benchmarks/bench_video.py``). A face that
        appears between two detections is found at the next one; ``detect_every=1`` finds it
        at once.
    align, margin
        How faces are cut out (see :func:`fersk.faces.extract_face`).
    min_iou : float, default=0.3
        Overlap of boxes between detections for a face to keep its id (see :class:`IoUTracker`).
    on_missing : {"skip", "whole", "error"}, default="skip"
        An analysed frame without a face gives one record with ``face_found=False``;
        ``"skip"`` leaves its prediction empty, ``"whole"`` classifies the frame's centre
        square (as :func:`fersk.analyze_faces` does a photo's), ``"error"`` raises a
        ``ValueError`` naming the frame. The words mean what they mean for photos; the
        default differs, because frames without a face are common in a video (a head turned
        away) and the centre of such a frame is rarely a face.
    on_error : {"raise", "skip"}, default="raise"
        A file that cannot be read as a video, or whose decoding fails part-way, raises a
        :class:`fersk.exceptions.VideoReadError`. ``"skip"`` returns instead what was
        analysed before the failure (nothing, for a file that cannot be opened), with the
        path and the reason in ``unreadable``, and warns: what a folder of videos needs, as
        :func:`fersk.analyze_faces` does for photos.
    batch_size : int, default=64
        Faces classified per ``predict_proba`` call (as in :func:`fersk.analyze_faces`).
    n_jobs : int, optional, default=-1
        Worker processes for detection, as in :func:`fersk.analyze_faces`: the detector
        searches 8 frames per call, shared among the workers; -1 uses every core, None
        searches them in this process (batched through MTCNN's networks). The records are the
        same either way: the tracker still sees the frames in order.
    progress : bool or None, default=None
        A progress bar (tqdm) on stderr; None shows it only on a terminal.
    coverage, abstain_precision : float, optional
        Prediction sets and "unsure", as for :func:`fersk.analyze_faces`: each record's
        ``prediction_set`` and ``unsure``, columns of the CSV and labels of the annotated video.
    start, end : float, optional
        Analyse only the frames from ``start`` seconds (decoding from the key frame before
        it) to before ``end``: one time segment of a long video, as
        :func:`fersk.batch.analyze_videos` (``segment_seconds``) splits one among workers.
        Frames keep their time in the whole video, and their number (counted from the time at
        the video's frame rate: the number a whole run gives, for a video of constant rate);
        face ids start at 0.
    out : str or path-like, optional
        A CSV file to write the records to as they are made (the rows of ``to_csv``), for a
        video whose records would not fit in memory: they are not kept, so the memory used does
        not grow with the video's length. The file appears whole when the video is done (it is
        written beside and renamed). The records returned are then empty, with ``written_to``
        naming the file; their ``summary()`` and ``describe()`` still answer.

    Returns
    -------
    VideoRecords
        A list of :class:`FrameRecord`, frame by frame, each frame's faces in the
        detector's order (largest first); a frame without a face has one record with
        ``face_found=False``. ``.to_csv(path)`` writes them, ``.summary()`` gives each
        face's dominant emotion.

    Warns
    -----
    FerskDataWarning
        With the count, when some analysed frames have no face; with ``on_error="skip"``,
        naming the file and why, when it could not be read to its end.

    Raises
    ------
    VideoReadError
        A ``ValueError`` naming the file, when it is missing, not a video, corrupt or
        truncated, or holds no frames (unless ``on_error="skip"``).

    Examples
    --------
    >>> import os, tempfile
    >>> import av, numpy as np
    >>> from skimage.data import astronaut
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(70, image_size=24, random_state=0)
    >>> model = CNNClassifier(max_epochs=1, module__channels=(4, 8), module__hidden=8).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.mp4")
    >>> with av.open(path, "w") as out:
    ...     stream = out.add_stream("mpeg4", rate=10)
    ...     stream.width, stream.height = 256, 256
    ...     for i in range(6):
    ...         frame = np.roll(astronaut()[::2, ::2], 3 * i, axis=1)
    ...         out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
    ...     out.mux(stream.encode())
    >>> records = analyze_video(model, path, every=2)
    >>> [(r.frame, r.time, r.face_id) for r in records]
    [(0, 0.0, 0), (2, 0.2, 0), (4, 0.4, 0)]
    """
    every, fps = check_sampling(every, fps)
    if not (detect_every == "auto" or (isinstance(detect_every, (int, np.integer)) and detect_every >= 1)):
        raise ValueError(f'detect_every must be a positive whole number or "auto", got {detect_every!r}')
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    if on_missing not in ON_MISSING:
        raise ValueError(f"on_missing must be one of {ON_MISSING}, got {on_missing!r}")
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
    _check_segment(start, end)
    # a pipeline's FaceCropper finds the faces (with its detector), and is not run again on them
    estimator, framing = split_face_cropper(estimator, detector=detector, align=align, margin=margin)
    detector, align, margin = framing["detector"], framing["align"], framing["margin"]
    shape = model_input_shape(estimator)
    whole_frames = no_detection(detector)
    detector = None if whole_frames else get_detector(detector)
    if whole_frames:
        detect_every = 1  # each frame is its own "detection": the whole frame
    classes = plain_classes(estimator)
    asked = {"coverage": coverage, "abstain_precision": abstain_precision}
    prediction_answers(estimator, None, **asked)  # a model without calibration scores is said before decoding
    unreadable = {}
    try:
        info = video_info(path)
    except VideoReadError as error:
        if on_error == "raise":
            raise
        unreadable[str(path)] = str(error)
        _warn_unreadable(path, error)
        return VideoRecords(
            [],
            path=str(path),
            info=None,
            classes=classes,
            frames_analysed=[],
            frames_without_face=[],
            detect_every=1 if detect_every == "auto" else int(detect_every),
            unreadable=unreadable,
            **asked,
        )
    if detect_every == "auto":
        rate = min(fps, info.fps or fps) if fps is not None else info.fps / every
        detect_every = max(1, round(rate / DETECTIONS_PER_SECOND))

    records, pending, analysed, faceless = [], [], [], []
    tracker = IoUTracker(min_iou=min_iou)
    writer = None  # with out=: where the records go as they are made

    def classify():
        crops = [crop for _, crop in pending if crop is not None]
        if crops:
            proba, answers = classify_faces(
                estimator, np.stack(crops).astype(np.float32), batch_size=len(crops), **asked
            )
        k, made = 0, []
        for (frame, time, fid, face, detected), crop in pending:
            probabilities = predicted = None
            answer = {}
            if crop is not None:
                probabilities = dict(zip(classes, proba[k].astype(float).tolist()))
                predicted = classes[int(np.argmax(proba[k]))]
                answer = answers[k]
                k += 1
            box, score = (face.box, None if whole_frames else face.score) if face is not None else (None, None)
            found = face is not None
            made.append(FrameRecord(frame, time, fid, found, box, score, probabilities, predicted, detected, **answer))
        if writer is None:
            records.extend(made)
        else:
            writer.add(made)
        pending.clear()

    def emit(index, time, rgb, faces, detected):
        analysed.append(index)
        if not faces:
            if on_missing == "error":
                raise ValueError(
                    f"{path}: no face in frame {index} ({time:.2f} s); use on_missing='skip' to give it a record "
                    "without a prediction, or 'whole' to classify the frame's centre square"
                )
            faceless.append(index)
            whole = crop_face(rgb, None, shape).reshape(-1) if on_missing == "whole" else None
            pending.append(((index, time, None, None, detected), whole))
        for fid, face in faces.items():
            if whole_frames:
                crop = whole_image(rgb, shape).reshape(-1)
            else:
                crop = crop_face(rgb, face, shape, align=align, margin=margin).reshape(-1)
            pending.append(((index, time, fid, face, detected), crop))
        if len(pending) >= batch_size:
            classify()

    def between(buffer, start, start_time, end, end_time):
        """The frames between two detections, with each face's box interpolated (or carried)."""
        for index, time, rgb in buffer:
            fraction = (time - start_time) / (end_time - start_time) if end_time > start_time else 0.0
            faces = {
                fid: interpolate(face, end[fid], fraction) if end is not None and fid in end else face
                for fid, face in start.items()
            }
            emit(index, time, rgb, faces, detected=False)

    total = info.n_frames and (
        math.ceil(info.n_frames / every) if fps is None else math.ceil(info.n_frames * min(1, fps / (info.fps or fps)))
    )
    if total and (start is not None or end is not None) and info.duration:  # a segment: its share of the frames
        until = info.duration if end is None else min(end, info.duration)
        total = max(0, math.ceil(total * (until - (start or 0)) / info.duration))
    bar = progress_bar(progress, total or None, str(path))
    # each frame to detect on waits, with the frames since the one before it, until DETECTION_GROUP are gathered
    group, buffer, n = [], [], 0
    last = {"faces": {}, "time": 0.0}

    def search():
        if whole_frames:
            found = [[Face((0.0, 0.0, float(rgb.shape[1]), float(rgb.shape[0])), 1.0, None)] for _, _, rgb, _ in group]
        else:
            found = detector.detect_batch([rgb for _, _, rgb, _ in group], n_jobs=n_jobs)
        for (index, time, rgb, before), faces in zip(group, found):
            current = dict(zip(tracker.update(faces, time), faces))
            between(before, last["faces"], last["time"], current, time)
            emit(index, time, rgb, current, detected=not whole_frames)
            last.update(faces=current, time=time)
        group.clear()

    with contextlib.ExitStack() as sink:
        if out is not None:
            handle = sink.enter_context(open(sink.enter_context(atomic_path(out)), "w", newline="", encoding="utf-8"))
            writer = RecordWriter(handle, _fields(classes, asked), classes)
        try:
            try:
                for index, time, rgb in iter_frames(path, every=every, fps=fps, info=info, start=start, end=end):
                    if n % detect_every == 0:
                        group.append((index, time, rgb, buffer))
                        buffer = []
                        if len(group) == DETECTION_GROUP:
                            search()
                    else:
                        buffer.append((index, time, rgb))
                    n += 1
                    bar.update()
            except VideoReadError as error:
                if on_error == "raise":
                    raise
                unreadable[str(path)] = str(error)
                _warn_unreadable(path, error, analysed=n)
            search()
            between(buffer, last["faces"], last["time"], None, last["time"])
            classify()
        finally:
            bar.close()
    if faceless:
        shown = ", ".join(map(str, faceless[:10])) + (", ..." if len(faceless) > 10 else "")
        warnings.warn(
            f"{path}: no face in {len(faceless)} of {len(analysed)} analysed frames (frames {shown}); "
            "each has one record with face_found=False"
            + (f"; faces were detected on one analysed frame in {detect_every}" if detect_every > 1 else ""),
            FerskDataWarning,
            stacklevel=2,
        )
    return VideoRecords(
        records,
        path=str(path),
        info=info,
        classes=classes,
        frames_analysed=analysed,
        frames_without_face=faceless,
        detect_every=int(detect_every),
        unreadable=unreadable,
        written_to=None if writer is None else str(out),
        summary=None if writer is None else writer.summary(),
        **asked,
    )


def _fields(classes, asked):
    """The CSV columns of records of these classes, with the answers asked for."""
    empty = VideoRecords([], path=None, info=None, classes=classes, frames_analysed=[], frames_without_face=[], **asked)
    return empty.fields()


def _check_segment(start, end):
    for name, value in (("start", start), ("end", end)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0):
            raise ValueError(f"{name} must be a time in seconds, 0 or more, got {value!r}")
    if start is not None and end is not None and not end > start:
        raise ValueError(f"end must come after start, got start={start!r} and end={end!r}")


def _warn_unreadable(path, error, analysed=0):
    kept = f"; the records hold the {analysed} frames analysed before it" if analysed else ""
    warnings.warn(f"{error}{kept} (listed in the records' unreadable)", FerskDataWarning, stacklevel=3)
