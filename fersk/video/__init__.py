"""Videos: decoding (PyAV, FFmpeg inside its wheel), faces tracked and classified frame by frame,
their emotions over time as a figure, and the video with boxes and labels drawn on it.

``analyze_video(model, "clip.mp4")`` returns one :class:`FrameRecord` per face per analysed
frame (frame, time, face id, box, probabilities); ``plot_emotion_timeline(records)`` draws
them; ``write_annotated_video("clip.mp4", records, "annotated.mp4")`` writes the video back
with them drawn. The timeline lives here, not in :mod:`fersk.evaluation`: it draws a video's
records (no labels, no metrics), and evaluation should not depend on video decoding.
"""

from ._analyze import analyze_video
from ._plot import plot_emotion_timeline
from ._reader import MissingVideoError, VideoInfo, VideoReadError, iter_frames, video_info
from ._records import FrameRecord, VideoRecords
from ._track import IoUTracker
from ._write import write_annotated_video

__all__ = [
    "FrameRecord",
    "IoUTracker",
    "MissingVideoError",
    "VideoInfo",
    "VideoReadError",
    "VideoRecords",
    "analyze_video",
    "iter_frames",
    "plot_emotion_timeline",
    "video_info",
    "write_annotated_video",
]
