"""fersk's photo and video path against the ``fer`` package (its MTCNN), side by side in one run.

Claim: paths in, faces and labels out, fersk is at least as fast as ``fer`` with no face lost:
each tool's boxes are paired photo by photo (frame by frame), by their overlap, so a face that
one tool finds and the other misses is counted, and so is a box that only one of them draws.
Both tools read the same files: the muxspace test photos (128 px, one face each), photos of
512x1024 with two faces (two muxspace test photos enlarged to 512 px, side by side; built once in
``benchmarks/out/``), and a 640x360 clip of 3 s at 25 fps (``bench_long_video.make_clip``) with
detection on every frame.

fersk runs the default model (``fer2013-muxspace``) with ``analyze_faces`` (in this process,
``n_jobs=None``, and at its default, ``n_jobs=-1``: a worker process per core) and
``analyze_video(..., detect_every=1)``. ``fer`` runs in its own environment (it pins other
versions of torch and numpy, and needs TensorFlow), as a worker process that this script starts
and feeds paths: ``FER(mtcnn=True).detect_emotions(path)`` per photo, and the same per frame
of the clip decoded with OpenCV, as ``fer.Video`` decodes it. Make that environment with
``python -m venv /tmp/ferenv && /tmp/ferenv/bin/pip install fer`` (fer 25.10.3, facenet-pytorch
2.6.0, torch 2.2.2, TensorFlow 2.21 were measured) and name its Python with ``--fer-python``;
its weights ship inside its wheels, so it runs offline.

The tools take turns on each set, round after round, the first to go alternating; each one's
best round is kept, and the ratio of each round is reported too: the machine is shared and noisy.
py-feat's published CPU figures (8.9 to 17.6 frames/s) are recorded beside them, not measured
here: py-feat downloads its weights at run time.
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import HERE, muxspace_paths, record
from bench_long_video import make_clip
from PIL import Image
from scipy.optimize import linear_sum_assignment
from torchvision.ops import box_iou

import fersk
from fersk.video import analyze_video

FER_WORKER = r"""
import json, sys, time
import cv2, fer, torch
from fer.fer import FER

detector = FER(mtcnn=True)
detector.detect_emotions(sys.argv[1])  # warm: the networks loaded
print("READY " + json.dumps({"fer": fer.__version__, "torch": torch.__version__}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    start = time.perf_counter()
    if "paths" in job:
        found = [detector.detect_emotions(path) for path in job["paths"]]
    else:
        capture, found = cv2.VideoCapture(job["video"]), []
        ok, frame = capture.read()
        while ok:
            found.append(detector.detect_emotions(frame))
            ok, frame = capture.read()
    seconds = time.perf_counter() - start
    labels = [max(face["emotions"], key=face["emotions"].get) for faces in found for face in faces]
    boxes = [[[x, y, x + w, y + h] for x, y, w, h in (face["box"] for face in faces)] for faces in found]
    result = {"seconds": seconds, "boxes": boxes, "labels": labels}
    print("RESULT " + json.dumps(result, default=int), flush=True)
"""

PY_FEAT_CPU_FPS = (8.9, 17.6)  # published by py-feat (as quoted in the project's issue 36); not run here


class FerWorker:
    """The ``fer`` package in its own Python, fed paths on stdin; answers seconds, faces and labels per job."""

    def __init__(self, python, warm_path):
        self.script = Path(tempfile.mkdtemp()) / "fer_worker.py"
        self.script.write_text(FER_WORKER)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        self.process = subprocess.Popen(
            [python, str(self.script), str(warm_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.versions = json.loads(self._answer("READY "))

    def _answer(self, prefix):
        for line in self.process.stdout:
            if line.startswith(prefix):
                return line[len(prefix) :]
        raise RuntimeError(f"the fer worker ({self.script}) stopped without answering")

    def run(self, job):
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        return json.loads(self._answer("RESULT "))

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def two_face_photos(photos, n):
    """``n`` photos of 512x1024: two muxspace photos each, enlarged to 512 px, side by side (cached)."""
    folder = HERE / "out" / "peers-two-faces"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        path = folder / f"pair-{k:03d}.jpg"
        if not path.exists():
            canvas = Image.new("RGB", (1024, 512), (128, 128, 128))
            for side, source in enumerate(photos[2 * k : 2 * k + 2]):
                face = Image.open(source).convert("RGB")
                grow = 512 / max(face.size)
                face = face.resize((round(face.width * grow), round(face.height * grow)), Image.Resampling.BICUBIC)
                canvas.paste(face, (512 * side + (512 - face.width) // 2, (512 - face.height) // 2))
            canvas.save(path, quality=95)
        paths.append(str(path))
    return paths


def unmatched(theirs, ours, min_iou=0.3):
    """Boxes of ``theirs`` with no box of ``ours`` over them, and the other way round, photo by photo.

    Each photo's boxes are paired one to one, largest overlap first (``linear_sum_assignment`` on the
    intersection over union); a pair overlapping by less than ``min_iou`` is no pair.
    """
    missed = extra = 0
    for a, b in zip(theirs, ours):
        pairs = 0
        if a and b:
            iou = box_iou(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)).numpy()
            rows, cols = linear_sum_assignment(-iou)
            pairs = int(np.sum(iou[rows, cols] >= min_iou))
        missed += len(a) - pairs
        extra += len(b) - pairs
    return missed, extra


def fersk_photos(model, paths, n_jobs):
    start = time.perf_counter()
    records = fersk.analyze_faces(model, paths, n_jobs=n_jobs)
    seconds = time.perf_counter() - start
    found = [r for r in records if r.face_found]
    boxes = [[] for _ in paths]
    for r in found:
        boxes[r.image].append(list(r.box))
    labels = [r.predicted for r in found]
    return {"seconds": seconds, "boxes": boxes, "labels": labels}


def fersk_video(model, path):
    start = time.perf_counter()
    records = analyze_video(model, path, detect_every=1)
    seconds = time.perf_counter() - start
    frames = sorted(records.frames_analysed)
    found = [r for r in records if r.face_found]
    boxes = [[] for _ in frames]
    for r in found:
        boxes[int(np.searchsorted(frames, r.frame))].append(list(r.box))
    labels = [r.predicted for r in found]
    return {"seconds": seconds, "boxes": boxes, "labels": labels}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fer-python", default=os.environ.get("FER_PYTHON", "/tmp/ferenv/bin/python"))
    parser.add_argument("--rounds", type=int, default=3, help="turns of each tool on each set (default: 3)")
    parser.add_argument("--quick", action="store_true", help="60 and 20 photos, a 1 s clip, 2 rounds")
    args = parser.parse_args()
    if not Path(args.fer_python).exists():
        sys.exit(f"no Python at {args.fer_python}: make fer's environment (see this script's docstring), or name it")
    begin = time.perf_counter()
    rounds = 2 if args.quick else args.rounds
    small = muxspace_paths("test", 60 if args.quick else 600)
    pairs = two_face_photos(muxspace_paths("test", 300), 20 if args.quick else 150)
    clip = make_clip(Path(tempfile.mkdtemp()) / "clip.mp4", 1 if args.quick else 3)

    model = fersk.load_pretrained("fer2013-muxspace")
    fer = FerWorker(args.fer_python, small[0])
    fersk.analyze_faces(model, small[:4] + pairs[:2], n_jobs=None)  # warm: the networks loaded
    runs = {  # (set, tool) -> one call over the set
        ("muxspace photos", "fer"): lambda: fer.run({"paths": small}),
        ("muxspace photos", "fersk"): lambda: fersk_photos(model, small, None),
        ("muxspace photos", "fersk n_jobs=-1"): lambda: fersk_photos(model, small, -1),
        ("two-face 512x1024 photos", "fer"): lambda: fer.run({"paths": pairs}),
        ("two-face 512x1024 photos", "fersk"): lambda: fersk_photos(model, pairs, None),
        ("two-face 512x1024 photos", "fersk n_jobs=-1"): lambda: fersk_photos(model, pairs, -1),
        ("640x360 video, detect every frame", "fer"): lambda: fer.run({"video": str(clip)}),
        ("640x360 video, detect every frame", "fersk"): lambda: fersk_video(model, clip),
    }
    figures = {
        "fer": f"fer {fer.versions['fer']} (MTCNN of facenet-pytorch, torch {fer.versions['torch']}), own environment",
        "fersk": "analyze_faces / analyze_video, fer2013-muxspace at its defaults; n_jobs=None unless named",
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(not set)"),
        "rounds": rounds,
        "load average at start": round(os.getloadavg()[0], 2),
    }
    rates = {key: [] for key in runs}
    answers = {}
    for r in range(rounds):
        for key in runs if r % 2 == 0 else reversed(runs):  # who goes first alternates
            answers[key] = runs[key]()
            rates[key].append(len(answers[key]["boxes"]) / answers[key]["seconds"])
            print(f"round {r + 1}: {key[0]}, {key[1]}: {rates[key][-1]:.1f}/s", flush=True)
    fer.close()

    for name in dict.fromkeys(key[0] for key in runs):
        unit = "frames/s" if "video" in name else "photos/s"
        tools = [tool for set_name, tool in runs if set_name == name]
        figures[f"{name}: count"] = len(answers[(name, "fer")]["boxes"])
        for tool in tools:
            found = [len(boxes) for boxes in answers[(name, tool)]["boxes"]]
            figures[f"{name}: {tool} {unit} (best round)"] = round(max(rates[(name, tool)]), 1)
            figures[f"{name}: {tool} faces found"] = int(sum(found))
            figures[f"{name}: {tool} with a face"] = int(np.count_nonzero(found))
        for tool in tools[1:]:
            ratios = [a / b for a, b in zip(rates[(name, tool)], rates[(name, "fer")])]
            figures[f"{name}: {tool} / fer (median of rounds)"] = round(statistics.median(ratios), 2)
            figures[f"{name}: {tool} / fer (each round)"] = [round(x, 2) for x in ratios]
            # faces matched box to box within each photo or frame: a face found elsewhere does not make up for one lost
            missed, extra = unmatched(answers[(name, "fer")]["boxes"], answers[(name, tool)]["boxes"])
            figures[f"{name}: {tool}: faces fer finds that it misses"] = missed
            figures[f"{name}: {tool}: faces it finds that fer misses"] = extra
    figures["py-feat published CPU frames/s (not measured here)"] = list(PY_FEAT_CPU_FPS)
    with contextlib.suppress(OSError):
        figures["load average at end"] = round(os.getloadavg()[0], 2)
    print(record("peers" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
