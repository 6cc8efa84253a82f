"""Photos per second of ``fersk.batch.analyze_photos`` on a Dask ``LocalCluster`` of 1 worker and of 2,
side by side in one run, on the 2,735 muxspace test photos, with the default model (``fer2013-muxspace``);
the records of both against those of one local ``analyze_faces`` call; and a run killed halfway, then
resumed, against one uninterrupted run.

The workers have one thread each. The local call is ``analyze_faces(..., n_jobs=None)`` in this
process, as a worker runs it. ``--quick`` takes the first 200 photos.
"""

import argparse
import multiprocessing
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _common import muxspace_paths, record

import fersk
from fersk.batch import analyze_photos

MODEL = "fer2013-muxspace"


def same_records(frame, expected):
    """The same faces in the same order; the largest difference of a probability."""
    if list(frame["image"]) != list(expected["image"]) or list(frame["face_found"]) != list(expected["face_found"]):
        return False, None
    classes = [c for c in expected.columns if c in fersk.EMOTIONS]
    return True, float(np.nanmax(np.abs(frame[classes].to_numpy(float) - expected[classes].to_numpy(float))))


def killed_run(photos, out, partition_size, n_parts):
    """Run in a child process and kill it once ``n_parts`` partitions are written."""
    child = multiprocessing.get_context("spawn").Process(
        target=analyze_photos, args=(MODEL, photos, out), kwargs=dict(partition_size=partition_size, format="csv")
    )
    child.start()
    while len(list(Path(out).glob("part-*.json"))) < n_parts and child.is_alive():
        time.sleep(0.2)
    child.kill()
    child.join()
    return sorted(p.name for p in Path(out).glob("part-*.json"))


def plot(figures, path):
    """Photos per second against the number of workers, beside perfect scaling: docs/images/batch_workers.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fersk._atomic import save_figure

    workers = [1, 2]
    speed = [figures[f"{n} worker(s): photos/s"] for n in workers]
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    ax.plot(workers, [speed[0] * n for n in workers], "k:", label="perfect scaling")
    ax.plot(workers, speed, "o-", label="analyze_photos on a LocalCluster")
    ax.set(xlabel="workers (one core each)", ylabel="photos per second", xticks=workers, ylim=(0, None))
    ax.set_title(f"{figures['photos']:,} muxspace test photos", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the first 200 photos; written to benchmarks/out/")
    parser.add_argument("--plot", action="store_true", help="only draw the figure again, from results/batch.json")
    args = parser.parse_args()
    figure = Path(__file__).resolve().parent.parent / "docs" / "images" / "batch_workers.png"
    if args.plot:
        import json

        results = Path(__file__).resolve().parent / "results" / "batch.json"
        plot(json.loads(results.read_text())["figures"], figure)
        return
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    photos = muxspace_paths("test", 200 if args.quick else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fersk.FerskDataWarning)
        expected = fersk.analyze_faces(fersk.load_pretrained(MODEL), photos, n_jobs=None, on_error="skip").to_frame()
    figures = {"photos": len(photos)}
    tmp = Path(tempfile.mkdtemp())
    try:
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster:
                with Client(cluster) as client:
                    client.run(lambda: __import__("fersk").load_pretrained(MODEL))  # started, model on disk cache
                    began = time.perf_counter()
                    run = analyze_photos(MODEL, photos, tmp / f"w{workers}", scheduler=client, partition_size=64)
                    seconds = time.perf_counter() - began
            same, largest = same_records(run.read(), expected)
            figures[f"{workers} worker(s): photos/s"] = round(len(photos) / seconds, 1)
            figures[f"{workers} worker(s): records as the local call"] = same
            figures[f"{workers} worker(s): largest probability difference"] = largest
        figures["2 workers / 1 worker"] = round(figures["2 worker(s): photos/s"] / figures["1 worker(s): photos/s"], 2)

        size = 32 if args.quick else 128
        n_parts = -(-len(photos) // size)
        done = killed_run(photos, tmp / "killed", size, n_parts // 2)
        mtimes = {p.name: p.stat().st_mtime_ns for p in (tmp / "killed").glob("part-*")}
        resumed = analyze_photos(MODEL, photos, tmp / "killed", partition_size=size, format="csv")
        whole = analyze_photos(MODEL, photos, tmp / "whole", partition_size=size, format="csv")
        kept = all(p.stat().st_mtime_ns == mtimes[p.name] for p in (tmp / "killed").glob("part-*") if p.name in mtimes)
        figures["resume: partitions"] = n_parts
        figures["resume: done when killed"] = len(done)
        figures["resume: written by the resumed run"] = len(resumed.written)
        figures["resume: a done partition written again"] = not kept
        figures["resume: tables identical to one uninterrupted run"] = all(
            a.read_bytes() == b.read_bytes() for a, b in zip(resumed.tables, whole.tables)
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(record("batch-quick" if args.quick else "batch", figures, time.perf_counter() - start))
    if not args.quick:
        plot(figures, figure)


if __name__ == "__main__":
    main()
