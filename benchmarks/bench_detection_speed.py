"""How fast the face detectors are on 2 cores, and which way of using both cores pays.

Run pinned to two idle cores (``taskset -c 0,1``): on a shared machine the figures measure the
neighbours. Photos are the astronaut's head (scikit-image) pasted on noise, 300 of 128x128 (a
third grey, as muxspace's) and 60 of 640x480. For each size: MTCNN in this process (its default:
PyTorch's threads for a large batch of one size), MTCNN forced onto one thread, MTCNN with P-Net's
windows 2 pixels apart on every level (as before it looked at every window on the coarsest
levels), MTCNN in two worker processes, and the LBP cascade in one and two processes. Where a GPU is present, MTCNN on
CUDA against the CPU: the same faces, and its speed.
"""

import argparse
import contextlib
import os
import time

import numpy as np
import torch
from _common import record
from PIL import Image
from skimage.data import astronaut

import fersk.faces._mtcnn as mtcnn
import fersk.faces._mtcnn_networks as networks
from fersk.faces import LBPDetector, MTCNNDetector

DENSE_SIDE = networks.DENSE_SIDE


def photos(n, height, width, face_heights, rng):
    head = astronaut()[0:256, 120:320]
    out = []
    for i in range(n):
        face_h = int(rng.integers(*face_heights))
        face = np.asarray(Image.fromarray(head).resize((round(200 * face_h / 256), face_h), Image.BILINEAR))
        canvas = rng.integers(80, 150, (height, width, 3)).astype(np.uint8)
        r, c = rng.integers(0, height - face.shape[0] + 1), rng.integers(0, width - face.shape[1] + 1)
        canvas[r : r + face.shape[0], c : c + face.shape[1]] = face
        out.append(canvas if i % 3 else canvas.mean(axis=2))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30 and 10 photos")
    args = parser.parse_args()
    begin = time.perf_counter()
    rng = np.random.default_rng(0)
    sizes = {
        "128 px": photos(30 if args.quick else 300, 128, 128, (110, 128), rng),
        "640x480": photos(10 if args.quick else 60, 480, 640, (200, 400), rng),
    }
    figures = {"cores": sorted(os.sched_getaffinity(0)), "torch threads": torch.get_num_threads()}
    figures["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY", "(not set)")

    def rate(name, detect, images):
        detect(images[:4])  # warm: the weights loaded, the worker processes started
        start = time.perf_counter()
        found = detect(images)
        figures[f"{name}: photos/s"] = round(len(images) / (time.perf_counter() - start), 1)
        figures[f"{name}: found %"] = round(100 * float(np.mean([len(f) > 0 for f in found])), 1)
        print(name, figures[f"{name}: photos/s"], flush=True)

    def dense_side(side):
        def detect(images):
            networks.DENSE_SIDE = side
            try:
                return mtcnn_cpu.detect_batch(images)
            finally:
                networks.DENSE_SIDE = DENSE_SIDE

        return detect

    mtcnn_cpu = MTCNNDetector(device="cpu")
    for size, images in sizes.items():
        # the default against P-Net's windows every 2 pixels on every level (as before it looked at every window on
        # the coarsest levels): turn about, three times each, the best kept, as the difference is a few per cent
        rows = {
            f"{size}, mtcnn, this process (default)": dense_side(DENSE_SIDE),
            f"{size}, mtcnn, this process, windows 2 px apart on every level": dense_side(0),
        }
        best = {}
        for _ in range(3):
            for name, detect in rows.items():
                rate(name, detect, images)
                best[name] = max(best.get(name, 0), figures[f"{name}: photos/s"])
        for name, value in best.items():
            figures[f"{name}: photos/s"] = value
        saved = mtcnn._THREADED_PIXELS
        mtcnn._THREADED_PIXELS = float("inf")  # every batch on one thread
        try:
            rate(f"{size}, mtcnn, this process, one thread", mtcnn_cpu.detect_batch, images)
        finally:
            mtcnn._THREADED_PIXELS = saved
        rate(f"{size}, mtcnn, 2 processes", lambda x: mtcnn_cpu.detect_batch(x, n_jobs=2), images)
        rate(f"{size}, lbp, this process", LBPDetector().detect_batch, images)
        rate(f"{size}, lbp, 2 processes", lambda x: LBPDetector().detect_batch(x, n_jobs=2), images)

    if torch.cuda.is_available():
        figures["gpu"] = torch.cuda.get_device_name()
        mtcnn_gpu = MTCNNDetector(device="cuda")
        images = sizes["128 px"][:60] + sizes["640x480"][:20]
        cpu, gpu = mtcnn_cpu.detect_batch(images), mtcnn_gpu.detect_batch(images)
        figures["cuda: same number of faces as the CPU"] = all(len(a) == len(b) for a, b in zip(cpu, gpu))
        figures["cuda: largest box difference from the CPU, px"] = round(
            max(float(np.abs(np.subtract(a.box, b.box)).max()) for fa, fb in zip(cpu, gpu) for a, b in zip(fa, fb)), 2
        )
        for size, images in sizes.items():
            rate(f"{size}, mtcnn on cuda", mtcnn_gpu.detect_batch, images)
    with contextlib.suppress(Exception):
        figures["load average at end"] = round(os.getloadavg()[0], 2)
    print(record("detection-speed" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
