"""The emotions of each face over time, as a figure."""

import numpy as np

from ..faces import emotion_colour
from ._records import VideoRecords


def _smooth(values, window):
    """Centred moving average over ``window`` points; shorter at the ends, never shifted."""
    if window <= 1 or len(values) < 2:
        return np.asarray(values, dtype=float)
    kernel, half, n = np.ones(window), (window - 1) // 2, len(values)
    sums = np.convolve(values, kernel, mode="full")[half : half + n]
    counts = np.convolve(np.ones(n), kernel, mode="full")[half : half + n]
    return sums / counts


def plot_emotion_timeline(records, *, window=5, classes=None, figsize=None):
    """Each emotion's probability over time, one panel per face, smoothed.

    Parameters
    ----------
    records : VideoRecords or list of FrameRecord
        As :func:`analyze_video` returns them.
    window : int, default=5
        The moving average's length, in analysed frames (centred, shorter at the ends;
        1: no smoothing).
    classes : list, optional
        The classes to draw (default: all, in the records' order).
    figsize : (float, float), optional
        Default: 8 wide, 2.6 high per face.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per face id (title ``face <id>: mostly <emotion>``), time in seconds on
        x, probability 0-1 on y; one axes saying so when no face was found.
    """
    from matplotlib.figure import Figure

    if isinstance(records, VideoRecords):
        records.check_kept("the timeline")
    records = list(records)
    faced = [r for r in records if r.face_id is not None and r.probabilities is not None]
    ids = sorted({r.face_id for r in faced})
    if classes is None:
        classes = getattr(records, "classes", None) or (list(faced[0].probabilities) if faced else [])
    fig = Figure(figsize=figsize or (8, 0.6 + 2.6 * max(1, len(ids))), layout="constrained")
    if not ids:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, f"no face found in the {len({r.frame for r in records})} analysed frames", ha="center")
        ax.set_axis_off()
        return fig
    axes = fig.subplots(len(ids), 1, sharex=True, squeeze=False)[:, 0]
    for ax, fid in zip(axes, ids):
        mine = [r for r in faced if r.face_id == fid]
        time = np.array([r.time for r in mine])
        proba = np.array([[r.probabilities[c] for c in classes] for r in mine])
        for j, c in enumerate(classes):
            colour = np.array(emotion_colour(c)) / 255  # the boxes' colours, neutral's light grey darkened for white
            ax.plot(
                time,
                _smooth(proba[:, j], window),
                color=colour if colour.sum() < 2.4 else colour / 2,
                lw=2,
                label=str(c),
            )
        dominant = classes[int(np.argmax(proba.mean(axis=0)))]
        ax.set(ylim=(0, 1), ylabel="probability", title=f"face {fid}: mostly {dominant}")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    return fig
