"""Folders of photos and videos analysed partition by partition: in this process, or on a Dask cluster."""

import hashlib
import os
import pickle
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .._pretrained import shipped_name
from ..exceptions import FerskDataWarning, VideoReadError
from ..faces import analyze_faces
from ..video import analyze_video, video_info
from ._store import write_partition

VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".gif"})
# what a partition's analysis may be given; the rest (on_error, n_jobs, progress) the run sets itself
CONFIDENCE = ("coverage", "abstain_precision")
PHOTO_SETTINGS = ("detector", "align", "margin", "on_missing", "batch_size", *CONFIDENCE)
VIDEO_SETTINGS = ("every", "fps", "detector", "detect_every", "align", "margin", "min_iou", "on_missing", "batch_size")
VIDEO_SETTINGS += CONFIDENCE

# the models a worker process has loaded, by name or file (and the file's size and time): each loads once
_LOADED = {}


@dataclass
class BatchResult:
    """What a batch run wrote, and what it could not read.

    Attributes
    ----------
    out : Path
        The output folder.
    tables : list of Path
        The partitions' tables (Parquet or CSV), in the order of the inputs.
    unreadable : dict
        ``path -> reason`` for every input that could not be read (wholly, or for a video, to
        its end), over the whole run, resumed parts included.
    written, resumed : list of int
        The partitions this call wrote, and those it found done by an earlier call.
    n_inputs : int
        Photos or videos in the run.
    """

    out: Path
    tables: list
    unreadable: dict
    written: list = field(default_factory=list)
    resumed: list = field(default_factory=list)
    n_inputs: int = 0

    def read(self):
        """Every partition's records as one pandas DataFrame, in the order of the inputs."""
        import pandas as pd

        frames = [pd.read_parquet(t) if t.suffix == ".parquet" else pd.read_csv(t) for t in self.tables]
        frames = [f for f in frames if len(f)] or frames[:1]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def list_inputs(inputs, extensions, what):
    """The files of ``inputs`` (paths, and folders searched recursively for ``extensions``), in order."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    files = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in extensions and p.is_file())
            if not found:
                warnings.warn(f"{path}: no {what} in this folder", FerskDataWarning, stacklevel=3)
            files.extend(found)
        else:
            files.append(path)  # a missing or unreadable file is listed by its partition, not dropped
    if not files:
        raise ValueError(f"no {what} to analyse: give files or folders that hold some")
    return [str(f) for f in files]


def model_identity(model):
    """What names the model in the run's manifest: a shipped name, a file with its size and time, or a hash."""
    if isinstance(model, (str, os.PathLike)):
        if shipped_name(model):
            return {"pretrained": str(model)}
        path = Path(model)
        if not path.is_file():
            raise ValueError(f"no model file at {path}; pass a .fersk file, a fitted estimator or a shipped name")
        stat = path.stat()
        return {"file": str(path.resolve()), "bytes": stat.st_size, "modified": stat.st_mtime_ns}
    if not hasattr(model, "predict_proba"):
        raise ValueError(
            f"model must be a fitted classifier, a model file or a shipped name, got {type(model).__name__}"
        )
    # its pickle's hash (joblib.hash sorts dictionaries, and cannot sort a network's tensors)
    return {"estimator": type(model).__name__, "sha256": hashlib.sha256(pickle.dumps(model)).hexdigest()}


def worker_model(model):
    """The model, loaded once per process when given by name or file."""
    if not isinstance(model, (str, os.PathLike)):
        return model
    from ..io import load, load_pretrained  # the io module loads torch: only where a model is loaded

    key = str(model) if shipped_name(model) else (str(Path(model).resolve()), Path(model).stat().st_mtime_ns)
    if key not in _LOADED:
        _LOADED[key] = load_pretrained(str(model)) if shipped_name(model) else load(model)
    return _LOADED[key]


def photo_partition(model, paths, table, marker, settings, n_jobs=None):
    """Analyse one partition of photos and write it: runs on a worker (or here)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FerskDataWarning)  # what it says is in the records and the marker
        records = analyze_faces(worker_model(model), paths, on_error="skip", n_jobs=n_jobs, progress=False, **settings)
    summary = {
        "inputs": len(paths),
        "faces": sum(r.face_found for r in records),
        "unreadable": records.unreadable,
        "seconds": round(time.perf_counter() - start, 3),
    }
    write_partition(records, Path(table), Path(marker), summary)
    return summary


def video_segments(path, segment_seconds):
    """The parts of one video, ``(path, start, end)`` in seconds: the whole video (None, None), or
    segments of ``segment_seconds`` (the last one up to 1.5 times as long) when it is longer."""
    if segment_seconds is None:
        return [(path, None, None)]
    try:
        duration = video_info(path).duration
    except VideoReadError:
        duration = None  # its one task lists it as unreadable
    if not duration or duration < 1.5 * segment_seconds:
        return [(path, None, None)]
    n = int(duration // segment_seconds)
    if duration - n * segment_seconds < 0.5 * segment_seconds:
        n -= 1  # a short remainder joins the last segment
    bounds = [k * segment_seconds for k in range(n + 1)]
    return [(path, start or None, end) for start, end in zip(bounds, [*bounds[1:], None])]


def video_partition(model, part, table, marker, settings, n_jobs=None):
    """Analyse one video, or one time segment of it, and write its records: runs on a worker (or here)."""
    video, begin, end = part
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FerskDataWarning)
        records = analyze_video(
            worker_model(model), video, on_error="skip", n_jobs=n_jobs, progress=False, start=begin, end=end, **settings
        )
    summary = {
        "inputs": 1,
        "start": begin,
        "end": end,
        "faces": len(records.face_ids),
        "frames": len(records.frames_analysed),
        "unreadable": records.unreadable,
        "seconds": round(time.perf_counter() - start, 3),
    }
    write_partition(records, Path(table), Path(marker), summary, column=("video", str(video)))
    return summary
