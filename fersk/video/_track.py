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

    Each track remembers its last box and how fast it was moving; a face found in a frame
    takes the id of the track whose box, moved on at that speed to the frame's time,
    overlaps it most (intersection over union at least ``min_iou``; greedy, best pairs
    first). Where no box overlaps enough (detections far apart in time, a fast face), a
    face still takes a track whose centre is within ``max_distance`` times the track's
    face side, nearest first, if their sizes differ by less than half. A face that matches
    no track starts a new one, numbered 0, 1, 2... in order of appearance. A track not seen
    for more than ``max_missed`` detections ends, so a face that comes back later gets a
    new id.

    Examples
    --------
    >>> from fersk.faces import Face
    >>> tracker = IoUTracker()
    >>> tracker.update([Face((0, 0, 10, 10), 1.0), Face((50, 0, 60, 10), 1.0)], time=0.0)
    [0, 1]
    >>> tracker.update([Face((52, 1, 62, 11), 1.0), Face((1, 0, 11, 10), 1.0)], time=0.1)
    [1, 0]
    >>> tracker.update([Face((16, 0, 26, 10), 1.0)], time=0.2)  # no overlap, but near face 0
    [0]
    """

    def __init__(self, min_iou=0.3, max_distance=2.0, max_missed=5):
        self.min_iou = min_iou
        self.max_distance = max_distance
        self.max_missed = max_missed
        self.tracks = {}  # id -> {"box", "time", "velocity" (box change per second), "missed"}
        self.next_id = 0

    def _predicted(self, track, time):
        if time is None or track["time"] is None:
            return track["box"]
        return track["box"] + track["velocity"] * (time - track["time"])

    def update(self, faces, time=None):
        """The id of each face (a list of :class:`Face`) found at ``time`` (seconds), in the order given."""
        candidates = []
        for tid, track in self.tracks.items():
            predicted = self._predicted(track, time)
            side = np.sqrt(max(1e-9, (predicted[2] - predicted[0]) * (predicted[3] - predicted[1])))
            centre = (predicted[:2] + predicted[2:]) / 2
            for i, face in enumerate(faces):
                overlap = iou(face.box, predicted)
                if overlap >= self.min_iou:
                    candidates.append((1.0, overlap, i, tid))
                    continue
                distance = np.hypot(*(np.asarray(face.center) - centre)) / side
                similar = 0.5 < np.sqrt(face.area) / side < 2
                if distance <= self.max_distance and similar:
                    candidates.append((0.0, -distance, i, tid))
        ids, used = [None] * len(faces), set()
        for _, _, i, tid in sorted(candidates, reverse=True):
            if ids[i] is None and tid not in used:
                ids[i] = tid
                used.add(tid)
        for i, face in enumerate(faces):
            box = np.asarray(face.box)
            if ids[i] is None:
                ids[i] = self.next_id
                self.next_id += 1
                self.tracks[ids[i]] = {"box": box, "time": time, "velocity": np.zeros(4), "missed": 0}
                continue
            track = self.tracks[ids[i]]
            if time is not None and track["time"] is not None and time > track["time"]:
                track["velocity"] = (box - track["box"]) / (time - track["time"])
            track.update(box=box, time=time, missed=0)
        for tid in list(self.tracks):
            if tid not in used and tid not in ids:
                self.tracks[tid]["missed"] += 1
                if self.tracks[tid]["missed"] > self.max_missed:
                    del self.tracks[tid]
        return ids


def interpolate(start, end, fraction):
    """A face between two detections of it: box, landmarks and score linearly in between."""
    box = (1 - fraction) * np.asarray(start.box) + fraction * np.asarray(end.box)
    landmarks = None
    if start.landmarks is not None and end.landmarks is not None:
        landmarks = (1 - fraction) * start.landmarks + fraction * end.landmarks
    return Face(box, (1 - fraction) * start.score + fraction * end.score, landmarks)
