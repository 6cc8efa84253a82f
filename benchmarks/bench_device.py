"""Photos end to end (read, detect, cut out, classify) at batch sizes 1, 16 and 64, on each device here.

Claim: batching photos pays, on a GPU as on the CPU, and every device and batch size gives the
records of the CPU one photo at a time: the same faces (boxes within a pixel). Their probabilities
are recorded as the largest difference, not held to a bound: a box that moves by 1e-4 pixels (MTCNN's
arithmetic on a batch differs from one photo's in the last bits) can round a crop pixel to the next
grey level, which moves a probability by up to about 1e-3.

Each batch size ``b`` hands ``analyze_faces`` ``b`` photos at a time, in this process
(``n_jobs=None``): MTCNN searches the ``b`` photos together (photos of one size in one tensor),
and the default model (``fer2013-muxspace``, loaded on the device) classifies their faces
``b`` at a time (``batch_size=b``). The photos are the muxspace test photos (``../shared/data``),
or the files of ``--photos DIR`` (the GPU machine receives the checkout only: carry a tarball of
photos in a git-ignored folder and name it). The devices take turns, round after round; each
one's best round is kept. On the CPU the same rows show what batching gives there.

Run: ``OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_device.py``; the CUDA rows appear when
torch finds a GPU (``results/device.json``; ``--quick``: 48 photos, ``out/device-quick.json``).
"""

import argparse
import contextlib
import os
import time
from pathlib import Path

import numpy as np
import torch
from _common import device_name, muxspace_paths, record

import fersk
from fersk.faces import MTCNNDetector

BATCH_SIZES = (1, 16, 64)


def analyze(model, detector, paths, batch):
    """The records of ``paths``, ``batch`` photos per call, and the seconds it took."""
    if model.device_.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    records = []
    for first in range(0, len(paths), batch):
        chunk = paths[first : first + batch]
        records.extend(fersk.analyze_faces(model, chunk, detector=detector, batch_size=batch, n_jobs=None))
    if model.device_.startswith("cuda"):
        torch.cuda.synchronize()
    return records, time.perf_counter() - start


def probabilities(records):
    return np.array([list(r.probabilities.values()) for r in records if r.face_found])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, help="a folder of photos (default: 600 muxspace test photos)")
    parser.add_argument("--rounds", type=int, default=2, help="turns of each device at each size (default: 2)")
    parser.add_argument("--quick", action="store_true", help="48 photos, one round")
    args = parser.parse_args()
    begin = time.perf_counter()
    n = 48 if args.quick else 600
    if args.photos is not None:
        paths = sorted(str(p) for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:n]
    else:
        paths = muxspace_paths("test", n)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    setups = {}
    for device in devices:
        model = fersk.load_pretrained("fer2013-muxspace", device=device)
        detector = MTCNNDetector(device=device)
        analyze(model, detector, paths[:16], 16)  # warm: weights loaded, CUDA's kernels chosen
        setups[device] = (model, detector)
    figures = {
        "photos": len(paths),
        "source": str(args.photos) if args.photos else "muxspace test photos",
        "devices": [device_name(d) for d in devices],
        "torch threads": torch.get_num_threads(),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(not set)"),
        "rounds": 1 if args.quick else args.rounds,
        "load average at start": round(os.getloadavg()[0], 2),
    }
    rates, answers = {}, {}
    for r in range(figures["rounds"]):
        for batch in BATCH_SIZES:
            for device in devices if r % 2 == 0 else reversed(devices):  # who goes first alternates
                records, seconds = analyze(*setups[device], paths, batch)
                rates.setdefault((device, batch), []).append(len(paths) / seconds)
                answers[(device, batch)] = records
                print(f"round {r + 1}: {device}, batch {batch}: {rates[(device, batch)][-1]:.1f} photos/s", flush=True)
    for device in devices:
        for batch in BATCH_SIZES:
            figures[f"{device}, batch {batch}: photos/s (best round)"] = round(max(rates[(device, batch)]), 1)
        figures[f"{device}: faces found"] = sum(r.face_found for r in answers[(device, 64)])
    reference = answers[("cpu", 1)]
    for (device, batch), records in answers.items():
        name = f"{device}, batch {batch}"
        same = [(r.path, r.face) for r in records] == [(r.path, r.face) for r in reference]
        if same and any(r.face_found for r in records):
            pairs = [(a, b) for a, b in zip(records, reference) if a.face_found]
            box_gap = max(float(np.abs(np.subtract(a.box, b.box)).max()) for a, b in pairs)
            gap = np.abs(probabilities(records) - probabilities(reference)).max()
            figures[f"{name}: largest box gap from cpu, batch 1 (px)"] = float(f"{box_gap:.2g}")
            figures[f"{name}: largest probability gap from cpu, batch 1"] = float(f"{gap:.2g}")
            same = box_gap < 1
        figures[f"{name}: same faces as cpu, batch 1"] = same
    with contextlib.suppress(OSError):
        figures["load average at end"] = round(os.getloadavg()[0], 2)
    print(record("device" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
