"""Shared helpers for the benchmark scripts: machine description, results as JSON, muxspace, timing."""

import argparse
import csv
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
SHARED_DATA = HERE.parent.parent / "shared" / "data"

# the neural models' training settings on muxspace, shared by every script that trains on it
MUXSPACE_NEURAL = dict(augment="basic", class_weight="balanced_sqrt", label_smoothing=0.1)


def machine():
    """A one-line description of this machine, with its GPU if PyTorch sees one."""
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{platform.machine()}, {os.cpu_count()} cores{gpu}, Python {platform.python_version()}"


def device_name(device):
    """``device`` as a fitted network reports it, with the GPU's name or the number of cores:
    ``"cuda (NVIDIA H200)"``, ``"cpu (2 cores)"``."""
    device = str(device)
    if device.startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return f"{device} ({os.cpu_count()} cores)"


def record(name, figures, seconds):
    """Write the figures, with the command, date and machine, as ``results/<name>.json``.

    Quick runs (names ending ``-quick``) go to ``out/``, which git ignores. ``RESULTS.md`` is
    rendered from the JSON files by ``render_results.py``; nothing appends to it.
    Returns a one-line summary.
    """
    out_dir = HERE / ("out" if name.endswith("-quick") else "results")
    out_dir.mkdir(parents=True, exist_ok=True)
    command = "python " + " ".join(["benchmarks/" + Path(sys.argv[0]).name, *sys.argv[1:]])
    entry = {
        "benchmark": name,
        "command": command,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "wall_seconds": round(seconds, 1),
        "figures": figures,
    }
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(entry, indent=2) + "\n")
    return f"{name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()) + f" (written to {path})"


def muxspace_paths(split, n=None):
    """Paths of the first ``n`` muxspace photos of a split (``"train"``, ``"val"``, ``"test"``), in the CSV's order."""
    root = SHARED_DATA / "muxspace"
    with open(root / "data" / "split.csv", newline="") as f:
        names = [row["image"] for row in csv.DictReader(f) if row["split"] == split]
    return [str(root / "images" / name) for name in names[:n]]


def load_muxspace(image_size, grayscale=True):
    """muxspace on its fixed split: the Bunch, and boolean masks of train, val and test."""
    import fersk

    root = SHARED_DATA / "muxspace"
    data = fersk.load_labeled_images(
        root / "images",
        root / "data" / "legend.csv",
        split_csv=root / "data" / "split.csv",
        image_size=image_size,
        grayscale=grayscale,
    )
    split = np.asarray(data.split)
    return data, split == "train", split == "val", split == "test"


def train_images(data, train, per_class=None):
    """The training images and labels; with ``per_class``, only the first that many of each class
    (a small subset for ``--quick`` that keeps every class)."""
    X, y = data.data[train], data.target[train]
    if per_class is None:
        return X, y
    keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])
    return X[keep], y[keep]


def variant_study(description, epochs):
    """The start of a study of CNNClassifier variants on muxspace at 48 px.

    Parses ``--epochs`` (default ``epochs``) and ``--quick`` (up to 100 training images per
    class, 1 epoch). Returns the Bunch, the training images and labels, the val and test
    masks, the number of epochs and whether the run is quick.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--quick", action="store_true", help="up to 100 training images per class, 1 epoch")
    args = parser.parse_args()
    data, train, val, test = load_muxspace(48)
    X, y = train_images(data, train, per_class=100 if args.quick else None)
    return data, X, y, val, test, 1 if args.quick else args.epochs, args.quick


def synchronize():
    """Wait for the GPU's queued work, so that a timer stopped after it counts it."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def throughput(fn, X, clock=time.perf_counter):
    """Images per second (of ``clock``) of ``fn`` over all of ``X`` in one call."""
    start = clock()
    fn(X)
    synchronize()
    return len(X) / (clock() - start)


def latency_ms(fn, X, calls):
    """Median milliseconds of ``calls`` single-image calls of ``fn``."""
    times = []
    for i in range(calls):
        start = time.perf_counter()
        fn(X[i % len(X) : i % len(X) + 1])
        synchronize()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)
