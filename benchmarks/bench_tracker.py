"""The video tracker's pairing of faces with tracks: scipy's ``linear_sum_assignment`` over torchvision's
``box_iou`` (what ``IoUTracker`` uses), against the greedy Python loop it replaced, side by side in one run.

Each round follows ``--faces`` faces drifting across 500 frames (a few pixels a frame, with jitter);
the figure is the tracker's time per frame, best of the rounds (the machine is shared and noisy), and
whether both give every face the same id throughout. The detector costs about 20 to 80 ms a frame on
2 cores (``bench_video.py``), so the tracker is a rounding error either way.
"""

import argparse
import time

import numpy as np
from _common import record

from fersk.faces import Face
from fersk.video import IoUTracker


class GreedyTracker(IoUTracker):
    """The pairing IoUTracker had before: every candidate pair sorted, best first, taken greedily."""

    def update(self, faces, time=None):
        candidates = []
        for tid, track in self.tracks.items():
            predicted = self._predicted(track, time)
            side = np.sqrt(max(1e-9, (predicted[2] - predicted[0]) * (predicted[3] - predicted[1])))
            centre = (predicted[:2] + predicted[2:]) / 2
            for i, face in enumerate(faces):
                overlap = _iou(face.box, predicted)
                if overlap >= self.min_iou:
                    candidates.append((1.0, overlap, i, tid))
                    continue
                distance = np.hypot(*(np.asarray(face.center) - centre)) / side
                if distance <= self.max_distance and 0.5 < np.sqrt(face.area) / side < 2:
                    candidates.append((0.0, -distance, i, tid))
        ids, used = [None] * len(faces), set()
        for _, _, i, tid in sorted(candidates, reverse=True):
            if ids[i] is None and tid not in used:
                ids[i] = tid
                used.add(tid)
        for i, face in enumerate(faces):
            box = np.asarray(face.box)
            if ids[i] is None:
                ids[i], self.next_id = self.next_id, self.next_id + 1
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


def _iou(a, b):
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def frames(n_faces, n_frames, seed=0):
    rng = np.random.default_rng(seed)
    start = np.stack([np.arange(n_faces) * 120.0, rng.uniform(0, 300, n_faces)], axis=1)
    speed = rng.uniform(-3, 3, (n_faces, 2))
    for t in range(n_frames):
        centres = start + speed * t + rng.normal(0, 1, (n_faces, 2))
        order = rng.permutation(n_faces)  # detectors list faces by size, not by identity
        yield [Face((*(centres[k] - 40), *(centres[k] + 40)), 0.99) for k in order], order


def run(tracker_type, n_faces, n_frames):
    tracker, same, begin = tracker_type(), True, time.perf_counter()
    first = None
    for t, (faces, order) in enumerate(frames(n_faces, n_frames)):
        ids = tracker.update(faces, time=t / 25)
        by_face = dict(zip(order, ids))
        first = first or by_face
        same &= by_face == first
    return (time.perf_counter() - begin) / n_frames * 1000, same


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    begin, figures = time.perf_counter(), {}
    for n_faces in (1, 4, 16):
        best = {}
        for _ in range(args.rounds):
            for name, kind in (("assignment (box_iou)", IoUTracker), ("greedy loop", GreedyTracker)):
                ms, same = run(kind, n_faces, args.frames)
                best[name] = (min(ms, best.get(name, (ms,))[0]), same)
        for name, (ms, same) in best.items():
            figures[f"{n_faces} faces, {name}: ms per frame"] = round(ms, 4)
            figures[f"{n_faces} faces, {name}: ids kept"] = same
        figures[f"{n_faces} faces: greedy / assignment time"] = round(
            best["greedy loop"][0] / best["assignment (box_iou)"][0], 2
        )
    print(record("tracker", figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
