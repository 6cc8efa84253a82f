"""A video with each face's box and label drawn on every frame."""

import warnings
from fractions import Fraction

import numpy as np

from .._atomic import atomic_path
from ..faces import draw_faces
from ._reader import VideoReadError, _av, _open, progress_bar, upright
from ._records import VideoRecords

# the output's clock: fine enough for a 960 fps slow-motion video, and within MPEG-4 part 2's limit (65535)
TIME_BASE = Fraction(1, 60000)


def write_annotated_video(path_in, records, path_out, *, codec=None, progress=None):
    """Write ``path_in`` again with each face's box and label drawn on it, as an MP4.

    Every frame of the input is written at its time (same frame count and times; a phone's
    variable-frame-rate video keeps its timing, and the last frame lasts one frame at the
    average rate); a frame that was not analysed
    (``every > 1`` or ``fps=``) shows the records of the last analysed frame before it.

    Parameters
    ----------
    path_in : str or path-like
        The video the records were made from.
    records : VideoRecords or list of FrameRecord
        From :func:`analyze_video`.
    path_out : str or path-like
        The MP4 to write.
    codec : str, optional
        Default: H.264 (``libx264``) where the PyAV wheel has it, else MPEG-4 part 2.
    progress : bool or None, default=None
        A progress bar (tqdm) on stderr; None shows it only on a terminal.

    Returns
    -------
    str
        ``path_out``, written whole or not at all: a video that cannot be decoded to its
        end, or holds no frame, raises a ``VideoReadError`` and leaves no file (an older
        ``path_out`` stays as it was).

    Warns
    -----
    UserWarning
        When the video has sound: the annotated video is written without it.
    """
    av = _av()
    by_frame = {}
    if isinstance(records, VideoRecords):
        records.check_kept("the annotated video")
    for record in records:
        by_frame.setdefault(record.frame, []).append(record)
    if codec is None:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    container, stream = _open(path_in)
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    shown, n, video, start, pts = [], 0, None, None, -1
    step = round(1 / rate / TIME_BASE)  # for a frame without a time
    if container.streams.audio:
        warnings.warn(
            f"{path_in} has sound, and the annotated video is written without it (fersk draws the frames only); "
            "put the sound back with any video editor, or ffmpeg -i annotated.mp4 -i original -map 0:v -map 1:a "
            "-c copy out.mp4",
            UserWarning,
            stacklevel=2,
        )
    bar = progress_bar(progress, stream.frames or None, f"writing {path_out}")
    try:
        # a temporary file beside path_out, renamed only once every frame is written: a video that fails to
        # decode half-way, or holds no frame, leaves no truncated or empty MP4 (and an older one whole)
        with atomic_path(path_out) as written, av.open(str(written), mode="w") as out:
            try:
                for i, frame in enumerate(container.decode(stream)):
                    rgb = upright(frame)
                    if video is None:  # the size of the frames as shown, a portrait video's upright
                        height, width = rgb.shape[:2]
                        video = out.add_stream(codec, rate=Fraction(rate))
                        video.codec_context.time_base = TIME_BASE
                        video.width, video.height = width + width % 2, height + height % 2  # 4:2:0: even sizes
                        video.pix_fmt = "yuv420p"
                        if codec == "libx264":
                            video.options = {"crf": "20", "preset": "veryfast"}
                    shown = by_frame.get(i, shown)
                    drawn = draw_faces(rgb, shown, min_size=0) if shown else rgb
                    if drawn.shape[:2] != (video.height, video.width):
                        drawn = np.pad(drawn, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
                    if frame.time is not None and start is None:
                        start = frame.time
                    at = pts + step if frame.time is None else round((frame.time - start) / TIME_BASE)
                    pts = max(at, pts + 1)  # times that go back or repeat would stop the encoder
                    picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(drawn), format="rgb24")
                    picture.pts, picture.time_base = pts, TIME_BASE
                    out.mux(video.encode(picture))
                    n += 1
                    bar.update()
            except av.FFmpegError as error:
                raise VideoReadError(
                    f"cannot read video {path_in}: corrupt or truncated, decoding failed after frame {n - 1} "
                    f"({error.strerror})"
                ) from None
            if video is None:
                raise VideoReadError(f"cannot read video {path_in}: it holds no frames")
            out.mux(video.encode())
    finally:
        bar.close()
        container.close()
    return str(path_out)
