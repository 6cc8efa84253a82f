"""Video files decoded with PyAV (its wheels bundle FFmpeg: no system ffmpeg needed)."""

import math
import os
import stat
import threading
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..exceptions import FerskDataWarning, MissingVideoError, VideoReadError

__all__ = ["MissingVideoError", "VideoInfo", "VideoReadError", "iter_frames", "video_info"]

# FFmpeg's demuxers for still images: such a file opens as a "video" of one frame
_IMAGE_FORMATS = ("image2", "jpeg_pipe", "png_pipe", "bmp_pipe", "webp_pipe", "tiff_pipe")
# and for animations, read as videos when they hold more than one frame
_ANIMATION_FORMATS = ("gif", "apng")


# video_info's answers, by file version (path, size, modification time), for up to 64 files
_INFOS, _INFOS_KEPT, _INFOS_LOCK = {}, 64, threading.Lock()


@dataclass(frozen=True)
class VideoInfo:
    """What a video's header says: ``fps`` (frames per second), ``n_frames`` (0 when the
    container does not say), ``width`` and ``height`` (of the upright frames, as ``iter_frames``
    yields them), ``duration`` in seconds (None when unknown), ``codec`` and ``container``."""

    path: str
    fps: float
    n_frames: int
    width: int
    height: int
    duration: float | None
    codec: str
    container: str


def _av():
    import av

    av.logging.set_level(av.logging.PANIC)  # errors become exceptions here, not FFmpeg's lines on stderr
    return av


_NO_CAMERAS = (
    "fersk reads video files, not cameras: record a clip first (for example "
    "`ffmpeg -f v4l2 -i /dev/video0 -t 10 clip.mp4`, or your camera app) and pass its file"
)


def _check_path(path):
    """``path`` as a Path; a VideoReadError for a camera (OpenCV's ``0``, ``/dev/video0``) or no file."""
    if isinstance(path, (int, np.integer)) or (isinstance(path, str) and path.isdigit() and not Path(path).exists()):
        raise VideoReadError(f"cannot read video {path}: a camera index? {_NO_CAMERAS}")
    if not isinstance(path, (str, os.PathLike)):
        raise VideoReadError(f"a video must be given as a path to a file, got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise MissingVideoError(f"cannot read video {path}: no such file")
    if stat.S_ISCHR(path.stat().st_mode):
        raise VideoReadError(f"cannot read video {path}: a device, not a file; {_NO_CAMERAS}")
    if path.is_dir():
        raise VideoReadError(f"cannot read video {path}: a folder; give one video file (one at a time)")
    if not path.is_file():
        raise VideoReadError(f"cannot read video {path}: not a file")
    return path


def _open(path):
    """The open container and its first video stream; every failure a VideoReadError naming the file."""
    av = _av()
    path = _check_path(path)
    if path.stat().st_size == 0:
        raise VideoReadError(f"cannot read video {path}: the file is empty")
    try:
        container = av.open(str(path), mode="r")
    except av.FFmpegError as error:
        raise VideoReadError(
            f"cannot read video {path}: not a video, or corrupt or truncated ({error.strerror})"
        ) from None
    fmt = container.format.name
    if not container.streams.video:
        container.close()
        raise VideoReadError(f"cannot read video {path}: it holds no video frames (no video stream; format {fmt})")
    stream = container.streams.video[0]
    names = set(fmt.split(","))
    if names & set(_IMAGE_FORMATS) or (names & set(_ANIMATION_FORMATS) and stream.frames == 1):
        container.close()
        raise VideoReadError(f"cannot read video {path}: it is a still image ({fmt}), not a video; see read_image")
    stream.thread_type = "AUTO"  # frame and slice threads: decoding uses every core
    return container, stream


def _info(path, container, stream):
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    return VideoInfo(
        str(path),
        fps,
        int(stream.frames or 0),
        stream.codec_context.width,
        stream.codec_context.height,
        duration,
        stream.codec_context.name,
        container.format.name,
    )


def _quarter_turned(container, stream):
    """Whether the first frame is turned by 90 degrees either way to be shown upright: PyAV
    gives the display matrix on decoded frames only. A frame that cannot be decoded: False.

    One frame is decoded on this thread alone: a decoder with frame threads, left after one
    frame, could hang when it was freed (``avcodec_free_context`` waiting on its threads).
    """
    stream.thread_type = "NONE"
    try:
        frame = next(container.decode(stream), None)
    except _av().FFmpegError:
        return False
    return frame is not None and round(getattr(frame, "rotation", 0) / 90) % 2 == 1


def video_info(path):
    """The video's frame rate, frame count, size and codec, from its header.

    ``width`` and ``height`` are those of the upright frames ``iter_frames`` yields: swapped
    from the stored ones when the video's rotation metadata turns it by 90 degrees (a
    portrait video from a phone, stored on its side). To read that, the first frame is decoded
    once: the answer is kept (for up to 64 files) until the file changes, so that asking again
    costs no decoding.

    Raises
    ------
    ValueError
        Naming the file, when it is missing, not a video, or cannot be opened (a
        ``VideoReadError``; a ``MissingVideoError``, also a ``FileNotFoundError``, when
        there is no such file); and for a camera (an index such as OpenCV's ``0``, or a
        device such as ``/dev/video0``): fersk reads video files.
    """
    status = _check_path(path).stat()
    key = (str(Path(path).resolve()), status.st_size, status.st_mtime_ns)  # one version of one file
    known = _INFOS.get(key)  # one lookup: another thread may drop the key between two
    if known is not None:
        return replace(known, path=str(path))
    container, stream = _open(path)
    try:
        info = _info(path, container, stream)
        if _quarter_turned(container, stream):
            info = replace(info, width=info.height, height=info.width)
    finally:
        container.close()
    with _INFOS_LOCK:
        if len(_INFOS) >= _INFOS_KEPT:
            del _INFOS[next(iter(_INFOS))]  # the oldest
        _INFOS[key] = info
    return info


def upright(frame):
    """A decoded frame as a ``(height, width, 3)`` uint8 RGB array, turned as its display
    matrix says: a phone stores a portrait video on its side, with the turn in its header."""
    rgb = frame.to_ndarray(format="rgb24")
    turns = round(getattr(frame, "rotation", 0) / 90) % 4  # degrees counter-clockwise, as np.rot90 turns
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def check_sampling(every, fps):
    if fps is not None:
        if every not in (None, 1):
            raise ValueError(f"give every= or fps=, not both (got every={every!r}, fps={fps!r})")
        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number of frames per second, got {fps!r}")
        return 1, float(fps)
    every = 1 if every is None else every
    if not (isinstance(every, (int, np.integer)) and every >= 1):
        raise ValueError(f"every must be a positive whole number of frames, got {every!r}")
    return int(every), None


def iter_frames(path, *, every=1, fps=None, info=None, start=None, end=None):
    """Decode a video's frames: ``(index, time_s, rgb)`` for every ``every``-th frame, or
    about ``fps`` frames per second of video.

    ``index`` counts every decoded frame from 0; ``time_s`` is the frame's presentation time
    (from 0 at the first frame); ``rgb`` is a ``(height, width, 3)`` uint8 array, upright
    (turned as the video's rotation metadata says, as players show it). Frames
    skipped by the sampling are decoded (video codecs need them) but not converted.

    With ``start`` (seconds), decoding begins at the key frame before it (a seek, not a
    decode from the beginning) and the frames before ``start`` are passed over; their
    ``index`` is then counted from the time at the video's frame rate, which for a video of
    constant rate is the count from the first frame. With ``end``, decoding stops at the
    first frame at or after it. The frames of ``[a, b)`` and ``[b, c)`` are those of
    ``[a, c)``: what a long video split into time segments needs.

    Raises
    ------
    ValueError
        Naming the file, when it cannot be opened, when decoding fails part-way (the frame
        reached is named), or when it holds no frames.

    Warns
    -----
    FerskDataWarning
        When decoding ends well before the video stream's frame count (or, without one, its
        duration) in the header: a truncated file decodes to where it was cut, without an
        error. No check without either (the container's duration may include a longer
        audio track).
    """
    every, fps = check_sampling(every, fps)
    av = _av()
    container, stream = _open(path)
    if info is None:
        info = _info(path, container, stream)
    step = 1 / info.fps if info.fps else 0.0
    origin, next_time, index = None, 0.0, -1
    seek = bool(start) and start > 0
    if seek:
        base = stream.time_base
        origin = float(stream.start_time * base) if stream.start_time is not None and base else 0.0
        if base:
            container.seek(int((origin + start) / base), stream=stream, backward=True)
    before, placed = None, not seek  # the last frame decoded before start: where the fps grid stands
    try:
        try:
            for frame in container.decode(stream):
                index += 1
                time = frame.time
                if time is None:
                    time = index * step
                if origin is None:
                    origin = time
                time -= origin
                if seek:
                    if time + 1e-6 < start:
                        before = time
                        continue
                    if fps is not None and not placed:
                        # a whole run takes a frame when a point of the grid lies after the frame before it
                        previous = before if before is not None else time - step
                        next_time, placed = (math.floor(previous * fps + 1e-6) + 1) / fps, True
                    index = round(time * info.fps) if info.fps else index
                if end is not None and time + 1e-6 >= end:
                    break
                if fps is not None:
                    if time + 1e-6 < next_time:
                        continue
                    next_time = (math.floor(time * fps + 1e-6) + 1) / fps  # the next point of the 1/fps grid
                elif index % every:
                    continue
                yield index, float(time), upright(frame)
        except av.FFmpegError as error:
            where = f"after frame {index}" if index >= 0 else "before its first frame"
            raise VideoReadError(
                f"cannot read video {path}: corrupt or truncated, decoding failed {where} ({error.strerror})"
            ) from None
        if index < 0:
            raise VideoReadError(f"cannot read video {path}: it holds no frames")
        # the video stream's own count or duration: the container's duration includes the audio,
        # which may run on after the last picture of a whole file
        expected, said = stream.frames, "its header says"
        if not expected and stream.duration and stream.time_base and info.fps:
            length = float(stream.duration * stream.time_base)
            expected, said = round(length * info.fps), f"its video stream's duration ({length:.2f} s) suggests about"
        whole = not seek and end is None  # a segment ends where it was asked to
        if whole and index + 1 < 0.9 * expected - 1:  # FFmpeg decodes a cut file to where it ends, without an error
            warnings.warn(
                f"{path}: decoding stopped after {index + 1} frames ({time:.2f} s), where {said} "
                f"{expected}; the file may be truncated",
                FerskDataWarning,
                stacklevel=2,
            )
    finally:
        container.close()


def progress_bar(progress, total, description):
    """A tqdm bar over frames on stderr: shown with ``progress=True``, hidden with False, and with
    None only on a terminal."""
    from tqdm.auto import tqdm

    disable = None if progress is None else not progress
    return tqdm(total=total, desc=description, unit="frame", disable=disable, leave=False)
