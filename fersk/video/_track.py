"""Faces followed from frame to frame: each keeps its id while its boxes overlap."""

import numpy as np

from ..faces import Face


def iou(a, b):
    """Intersection over union of two ``(left, top, right, bottom)`` boxes.

    >>> iou((0, 0, 10, 10), (5, 0, 15, 10))
    0.3333333333333333
    """
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class IoUTracker:
    """Gives each face an id that it keeps across frames.

    A face found in a frame takes the id of the track whose last box overlaps it most
    (intersection over union at least ``min_iou``; greedy, best pairs first); a face that
    matches none starts a new track, numbered 0, 1, 2... in order of appearance. A track
    not seen for more than ``max_missed`` detections ends, so a face that comes back
    later gets a new id.

    Examples
    --------
    >>> from fersk.faces import Face
    >>> tracker = IoUTracker()
    >>> tracker.update([Face((0, 0, 10, 10), 1.0), Face((50, 0, 60, 10), 1.0)])
    [0, 1]
    >>> tracker.update([Face((52, 1, 62, 11), 1.0), Face((1, 0, 11, 10), 1.0)])
    [1, 0]
    """

    def __init__(self, min_iou=0.3, max_missed=5):
        self.min_iou = min_iou
        self.max_missed = max_missed
        self.tracks = {}  # id -> [last box, detections missed since]
        self.next_id = 0

    def update(self, faces):
        """The id of each face (a list of :class:`Face`), in the order given."""
        pairs = sorted(
            ((iou(face.box, track[0]), i, tid) for i, face in enumerate(faces) for tid, track in self.tracks.items()),
            reverse=True,
        )
        ids, used = [None] * len(faces), set()
        for overlap, i, tid in pairs:
            if overlap < self.min_iou:
                break
            if ids[i] is None and tid not in used:
                ids[i] = tid
                used.add(tid)
        for i, face in enumerate(faces):
            if ids[i] is None:
                ids[i] = self.next_id
                self.next_id += 1
            self.tracks[ids[i]] = [face.box, 0]
        for tid in list(self.tracks):
            if tid not in ids:
                self.tracks[tid][1] += 1
                if self.tracks[tid][1] > self.max_missed:
                    del self.tracks[tid]
        return ids


def interpolate(start, end, fraction):
    """A face between two detections of it: box, landmarks and score linearly in between."""
    box = (1 - fraction) * np.asarray(start.box) + fraction * np.asarray(end.box)
    landmarks = None
    if start.landmarks is not None and end.landmarks is not None:
        landmarks = (1 - fraction) * start.landmarks + fraction * end.landmarks
    return Face(box, (1 - fraction) * start.score + fraction * end.score, landmarks)
