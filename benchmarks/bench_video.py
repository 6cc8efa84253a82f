"""Video frames per second on this machine, side by side in one run: decoding alone (the limit),
``analyze_video``'s defaults (``detect_every="auto"``: about five detections a second of video,
every fifth frame here), detection and classification on every frame, and tracking (detection on
every k-th frame, boxes interpolated between), with the default model of ``fersk video``
(``fer2013-muxspace``) at its default settings (its own test-time augmentation) and with one view
per face (``tta=None``). The modes run side by side, round after round, and the best round of
each is kept: the machine is shared and noisy.

The clip is synthetic: 640x360 at 25 fps, the astronaut's face (skimage.data) about 150 pixels
high, moving across the frame. Target: real time, 25 frames per second.
"""

import argparse
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from _common import record
from PIL import Image
from skimage.data import astronaut

import fersk
from fersk.video import analyze_video, iter_frames

WIDTH, HEIGHT, RATE = 640, 360, 25


def make_clip(path, n_frames):
    face = np.asarray(Image.fromarray(astronaut()).resize((300, 300), Image.Resampling.LANCZOS))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for i in range(n_frames):
            frame = np.full((HEIGHT, WIDTH, 3), 60, np.uint8)
            x = int(20 + 300 * i / max(1, n_frames - 1))  # left to right across the frame
            y = int(30 + 20 * np.sin(i / 8))
            frame[y : y + 300, x : x + 300] = face
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=75, help="frames in the clip (default: 75, 3 s)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over all modes; the best of each (default: 2)")
    args = parser.parse_args()
    begin = time.perf_counter()
    model = fersk.load_pretrained("fer2013-muxspace")
    default_tta = model.tta
    clip = make_clip(Path(tempfile.mkdtemp()) / "clip.mp4", args.frames)
    modes = {  # name -> (detect_every, tta); None: decoding only
        "decode only": None,
        "defaults (detect_every=auto)": ("auto", default_tta),
        "every frame": (1, default_tta),
        "detect_every=5": (5, default_tta),
        "detect_every=10": (10, default_tta),
        "detect_every=25": (25, default_tta),
        "detect_every=10, tta=None": (10, None),
        "detect_every=25, tta=None": (25, None),
    }
    analyze_video(model, clip, every=max(1, args.frames // 5))  # warm up: networks loaded, caches filled
    best, ids, steps = dict.fromkeys(modes, 0.0), {}, {}
    for _ in range(args.rounds):  # modes side by side, round after round: a busy spell hits them all
        for name, mode in modes.items():
            start = time.perf_counter()
            if mode is None:
                n = sum(1 for _ in iter_frames(clip))
            else:
                model.set_params(tta=mode[1])
                records = analyze_video(model, clip, detect_every=mode[0])
                n, ids[name] = len(records.frames_analysed), len(records.face_ids)
                steps[name] = records.detect_every
            best[name] = max(best[name], n / (time.perf_counter() - start))
            print(f"{name}: {n / (time.perf_counter() - start):.1f} fps", flush=True)
    figures = {"frames": args.frames, "size": f"{WIDTH}x{HEIGHT}", "default tta": default_tta, "rounds": args.rounds}
    figures.update({f"{name} fps": round(fps, 1) for name, fps in best.items()})
    figures.update({f"{name} face ids": n for name, n in ids.items()})
    figures["detect_every=auto resolved to"] = steps["defaults (detect_every=auto)"]
    print(record("video", figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
