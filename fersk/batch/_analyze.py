"""analyze_photos and analyze_videos: a run over many files, on Dask's workers or in this process."""

import contextlib
import inspect
import os

from .. import __version__
from ..datasets import IMAGE_EXTENSIONS
from ..video import analyze_video
from ._run import (
    PHOTO_SETTINGS,
    VIDEO_EXTENSIONS,
    VIDEO_SETTINGS,
    BatchResult,
    list_inputs,
    model_identity,
    photo_partition,
    video_partition,
    video_segments,
)
from ._seams import join_segments
from ._store import RunFolder, fingerprint, table_format

MIN_IOU = inspect.signature(analyze_video).parameters["min_iou"].default  # analyze_video's own default

_COMMON = """model : str, path-like or fitted estimator
        The name of a model fersk ships (``"fer2013-muxspace"``), a fersk model file, or a
        fitted classifier or Pipeline. A name or a file is loaded once by each worker (a file
        must be at the same path on every worker); an estimator is sent to each worker once.
    out : str or path-like
        The output folder: ``part-00000.parquet`` (or ``.csv``), ``part-00000.json`` (what the
        partition held, and the files it could not read), ... and ``fersk-run.json``, what
        defines the run. A folder holding another run is refused.
    scheduler : None, "local", str or distributed.Client, default=None
        Where the partitions run. None: in this process, one after another. ``"local"``: a
        ``distributed.LocalCluster`` of one single-threaded worker per core, started and
        closed by the call. An address (``"tcp://head:8786"``) or a ``Client``: that cluster,
        whose dashboard shows the run. Needs ``pip install fersk[dask]`` but for None.
    format : {"auto", "parquet", "csv"}, default="auto"
        Parquet where pandas and pyarrow are installed (``fersk[parquet]``), else CSV.
    progress : bool or None, default=None
        A progress bar on stderr; None shows it only on a terminal."""


def analyze_photos(model, photos, out, *, scheduler=None, partition_size=256, format="auto", progress=None, **settings):
    """Analyse many photos partition by partition, each written as it is done: a run that stops resumes.

    The photos are split, in order, into partitions of ``partition_size``. Each partition is
    one task: its worker reads the photos (paths go to the workers, not pixels), finds and
    classifies every face with :func:`fersk.analyze_faces`, and writes the records, one row
    per face, whole or not at all. Calling again with the same arguments writes only the
    partitions not yet done, and nothing twice. A file that cannot be read is listed (in
    the partition's ``.json`` and in ``unreadable``), never dropped.

    Parameters
    ----------
    {common}
    photos : str, path-like, or list of them
        Photo files, and folders searched recursively for photos (by extension), in order.
    partition_size : int, default=256
        Photos per partition: per task, and per file written.
    **settings
        Passed to :func:`fersk.analyze_faces`: ``detector``, ``align``, ``margin``,
        ``on_missing``, ``batch_size``, ``coverage``, ``abstain_precision``. The records are
        those it returns for the same photos.

    Returns
    -------
    BatchResult
        The tables written, in the photos' order (``read()`` gives them as one DataFrame),
        and the files that could not be read.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skimage.data import astronaut
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(70, image_size=24, random_state=0)
    >>> model = CNNClassifier(max_epochs=1, module__channels=(4, 8), module__hidden=8).fit(X, y)
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     Image.fromarray(astronaut()).save(folder / f"photo{{i}}.jpg")
    >>> run = analyze_photos(model, folder, folder / "out", partition_size=2, format="csv")
    >>> [p.name for p in run.tables], run.written
    (['part-00000.csv', 'part-00001.csv'], [0, 1])
    >>> analyze_photos(model, folder, folder / "out", partition_size=2, format="csv").resumed
    [0, 1]
    """
    unknown = sorted(set(settings) - set(PHOTO_SETTINGS))
    if unknown:
        raise ValueError(f"analyze_photos takes {', '.join(PHOTO_SETTINGS)} for analyze_faces, not {unknown}")
    if not (isinstance(partition_size, int) and partition_size >= 1):
        raise ValueError(f"partition_size must be a positive whole number, got {partition_size!r}")
    files = list_inputs(photos, IMAGE_EXTENSIONS, "photos")
    parts = [files[i : i + partition_size] for i in range(0, len(files), partition_size)]
    return _run("photos", photo_partition, model, files, parts, out, settings, scheduler, format, progress)


def analyze_videos(
    model, videos, out, *, scheduler=None, segment_seconds=None, format="auto", progress=None, **settings
):
    """Analyse many videos, one task and one table per video (or per segment of a long one): a run that stops resumes.

    Each video is one task: its worker decodes it, and finds, follows and classifies its
    faces with :func:`fersk.analyze_video`, and writes the records (one row per face per
    analysed frame, with a ``video`` column) whole or not at all. Calling again with the
    same arguments analyses only the videos not yet done. A video that cannot be read to its
    end keeps the frames read before (see ``on_error="skip"`` in :func:`fersk.analyze_video`)
    and is listed in ``unreadable``.

    With ``segment_seconds``, a video longer than that is split into time segments, each one
    task and one table, so that the workers share one long video. Frames keep their time in the
    whole video, and their number (exactly, for a video of constant frame rate). When every
    segment is done, the face ids are joined at the seams: a face seen in the last second before
    a seam takes, after it, the id of the face whose box overlaps it most (``min_iou`` or more),
    and each table's ``face_id`` is the video's id (``segment_face_id`` keeps the segment's own).

    Parameters
    ----------
    {common}
    videos : str, path-like, or list of them
        Video files, and folders searched recursively for videos (by extension), in order.
    segment_seconds : float, optional
        Split videos longer than this into segments of this length (the last one longer, up
        to 1.5 times). None: one task per video.
    **settings
        Passed to :func:`fersk.analyze_video`: ``every``, ``fps``, ``detector``,
        ``detect_every``, ``align``, ``margin``, ``min_iou``, ``on_missing``, ``batch_size``,
        ``coverage``, ``abstain_precision``.

    Returns
    -------
    BatchResult
        One table per video, in the videos' order.
    """
    unknown = sorted(set(settings) - set(VIDEO_SETTINGS))
    if unknown:
        raise ValueError(f"analyze_videos takes {', '.join(VIDEO_SETTINGS)} for analyze_video, not {unknown}")
    if segment_seconds is not None and (
        isinstance(segment_seconds, bool) or not isinstance(segment_seconds, (int, float)) or not segment_seconds > 0
    ):
        raise ValueError(f"segment_seconds must be a number of seconds above 0, or None; got {segment_seconds!r}")
    files = list_inputs(videos, VIDEO_EXTENSIONS, "videos")
    parts = [part for path in files for part in video_segments(path, segment_seconds)]
    extra = {"segment_seconds": repr(segment_seconds)} if segment_seconds is not None else {}
    result = _run("videos", video_partition, model, files, parts, out, settings, scheduler, format, progress, extra)
    by_video = {}
    for table, (path, _, end) in zip(result.tables, parts):
        by_video.setdefault(path, []).append((table, end))
    for segments in by_video.values():
        if len(segments) > 1:
            tables, ends = zip(*segments)
            join_segments(list(tables), list(ends[:-1]), min_iou=settings.get("min_iou", MIN_IOU))
    return result


analyze_photos.__doc__ = analyze_photos.__doc__.format(common=_COMMON)
analyze_videos.__doc__ = analyze_videos.__doc__.format(common=_COMMON)


def _run(kind, task, model, files, parts, out, settings, scheduler, format, progress, extra=None):
    from tqdm.auto import tqdm

    suffix = table_format(format)
    manifest = {
        **(extra or {}),
        "kind": kind,
        "inputs": fingerprint(files),
        "n_inputs": len(files),
        "partitions": len(parts),
        "model": model_identity(model),
        "settings": {k: repr(v) for k, v in sorted(settings.items())},
        "format": suffix,
        "fersk": __version__,
    }
    folder = RunFolder(out, manifest)
    todo = [i for i in range(len(parts)) if folder.done(i) is None]
    resumed = [i for i in range(len(parts)) if i not in set(todo)]
    segments = kind == "videos" and len(parts) > len(files)

    def count(i):
        return 1 if kind == "videos" else len(parts[i])

    bar = tqdm(
        total=len(parts) if kind == "videos" else len(files),
        initial=sum(count(i) for i in resumed),
        unit="segment" if segments else kind[:-1],
        desc=str(out),
        disable=None if progress is None else not progress,
        leave=False,
    )

    def arguments(i):
        return parts[i], str(folder.table(i, suffix)), str(folder.marker(i)), settings

    try:
        if scheduler is None:
            for i in todo:
                task(model, *arguments(i), n_jobs=-1)
                bar.update(count(i))
        else:
            from distributed import as_completed

            with _client(scheduler) as client:
                shared = model if isinstance(model, (str, os.PathLike)) else client.scatter(model, broadcast=True)
                futures = {client.submit(task, shared, *arguments(i), pure=False): i for i in todo}
                for future in as_completed(futures):
                    future.result()  # a task's error, raised here; the partitions done stay done
                    bar.update(count(futures[future]))
    finally:
        bar.close()
    unreadable = {}
    for i in range(len(parts)):
        unreadable.update(folder.done(i)["unreadable"])
    return BatchResult(
        out=folder.path,
        tables=[folder.table(i, suffix) for i in range(len(parts))],
        unreadable=unreadable,
        written=todo,
        resumed=resumed,
        n_inputs=len(files),
    )


@contextlib.contextmanager
def _client(scheduler):
    try:
        import distributed
    except ImportError:
        raise ImportError("scheduler= runs on Dask: pip install fersk[dask] (or scheduler=None)") from None
    if isinstance(scheduler, distributed.Client):
        yield scheduler
    elif scheduler == "local":
        n = os.cpu_count() or 1
        with distributed.LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=None) as cluster:
            with distributed.Client(cluster) as client:
                yield client
    elif isinstance(scheduler, str):
        with distributed.Client(scheduler) as client:
            yield client
    else:
        raise ValueError(
            f"scheduler must be None, 'local', a scheduler address or a distributed.Client; got {scheduler!r}"
        )
