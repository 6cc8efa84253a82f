"""Faces followed from frame to frame: each keeps its id while its boxes overlap."""

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torchvision.ops import box_iou

from ..faces import Face

# a pair that overlaps enough outranks any pair matched by distance alone, whatever their number
_OVERLAP_TIER = 1000.0
# The library pairing against the greedy Python loop it replaced (benchmarks/bench_tracker.py, 2 cores):
# 0.35 against 0.06 ms a frame with 1 face, 0.69 against 2.16 with 16; the same ids throughout. Either is
# under 2% of the detector's 20 to 80 ms a frame.


class IoUTracker:
    """Gives each face an id that it keeps across frames.

    Each track remembers its last box and how fast it was moving; a face found in a frame
    takes the id of the track whose box, moved on at that speed to the frame's time,
    overlaps it most (intersection over union at least ``min_iou``). Where no box overlaps
    enough (detections far apart in time, a fast face), a face still takes a track whose
    centre is within ``max_distance`` times the track's face side, if their sizes differ by
    less than half. Faces and tracks are paired as a whole (scipy's ``linear_sum_assignment``
    over torchvision's ``box_iou``): overlapping pairs first, then the nearest. A face that matches
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
        ids = [None] * len(faces)
        tids = list(self.tracks)
        if faces and tids:
            predicted = np.stack([self._predicted(self.tracks[tid], time) for tid in tids])
            boxes = np.array([face.box for face in faces], dtype=np.float64)
            overlap = box_iou(torch.from_numpy(boxes), torch.from_numpy(predicted)).numpy()
            side = np.sqrt(np.maximum(1e-9, (predicted[:, 2] - predicted[:, 0]) * (predicted[:, 3] - predicted[:, 1])))
            centres = (predicted[:, :2] + predicted[:, 2:]) / 2
            face_centres = (boxes[:, :2] + boxes[:, 2:]) / 2
            distance = np.linalg.norm(face_centres[:, None] - centres[None], axis=2) / side
            ratio = np.sqrt(np.array([face.area for face in faces]))[:, None] / side
            near = (distance <= self.max_distance) & (ratio > 0.5) & (ratio < 2)
            score = np.where(near, 1.0 / (1.0 + distance), 0.0)  # in (0, 1]: nearer is better
            score = np.where(overlap >= self.min_iou, _OVERLAP_TIER * (1.0 + overlap), score)
            for i, j in zip(*linear_sum_assignment(score, maximize=True)):
                if score[i, j] > 0:
                    ids[i] = tids[j]
        used = {tid for tid in ids if tid is not None}
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
