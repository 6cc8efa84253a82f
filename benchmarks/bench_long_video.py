"""Does ``analyze_video`` stream? Seconds per frame and peak memory on a 10-minute 640x360 video against a
1-minute one, detecting on every fifth frame, with the default model (``fer2013-muxspace``). Target: both
ratios at most 1.1.

Each video is analysed in a fresh process (spawned), whose peak resident memory is its ``ru_maxrss``; the
two run one after the other (short, long), ``--rounds`` times (default 1), and the best round of each is
kept: the machine is shared and noisy. The clips are synthetic (the astronaut's face, skimage.data, moving across
the frame at 25 fps). ``--quick``: 10 s against 60 s.
"""

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from _common import record
from PIL import Image
from skimage.data import astronaut

WIDTH, HEIGHT, RATE = 640, 360, 25


def make_clip(path, seconds):
    face = np.asarray(Image.fromarray(astronaut()[:300, 80:380]).resize((150, 150), Image.Resampling.LANCZOS))
    n = int(seconds * RATE)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for i in range(n):
            frame = np.full((HEIGHT, WIDTH, 3), 60, np.uint8)
            x = int(20 + 440 * (0.5 + 0.5 * np.sin(i / 90)))  # back and forth, for as long as it lasts
            y = int(100 + 60 * np.sin(i / 25))
            frame[y : y + 150, x : x + 150] = face
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())
    return path


def analyse(path, queue):
    import fersk

    model = fersk.load_pretrained("fer2013-muxspace")
    start = time.perf_counter()
    records = fersk.analyze_video(model, path, detect_every=5, progress=False)
    seconds = time.perf_counter() - start
    frames = len(records.frames_analysed)
    queue.put((seconds / frames, frames, len(records), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def measure(path):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=analyse, args=(path, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 s against 60 s; written to benchmarks/out/")
    parser.add_argument("--rounds", type=int, default=1, help="short then long, this many times (default: 1)")
    args = parser.parse_args()
    start = time.perf_counter()
    short, long = (10, 60) if args.quick else (60, 600)
    folder = Path(tempfile.mkdtemp())
    clips = {s: make_clip(folder / f"{s}s.mp4", s) for s in (short, long)}
    best = {}
    for _ in range(args.rounds):
        for s, path in clips.items():
            per_frame, frames, records, peak = measure(path)
            best[s] = min(best.get(s, (np.inf,)), (per_frame, frames, records, peak))
    figures = {}
    for s, (per_frame, frames, records, peak) in best.items():
        figures[f"{s} s: frames analysed"] = frames
        figures[f"{s} s: records"] = records
        figures[f"{s} s: ms per frame"] = round(1000 * per_frame, 2)
        figures[f"{s} s: peak RSS MiB"] = round(peak, 1)
    figures["time per frame, long / short"] = round(best[long][0] / best[short][0], 3)
    figures["peak RSS, long / short"] = round(best[long][3] / best[short][3], 3)
    print(record("long-video-quick" if args.quick else "long-video", figures, time.perf_counter() - start))


if __name__ == "__main__":
    main()
