"""Speed and memory, each measured side by side in one run:

- HOG extraction on all FER2013 images: HOGTransformer(n_jobs=2) against a plain
  scikit-image loop (the speed-up, on the first call, which starts the worker processes,
  and on a second call, which reuses them), and HOGTransformer(n_jobs=1) against the
  same loop (the overhead);
- inference throughput (images/s over 2,000 faces) and single-image latency (median of
  50 calls) of predict_proba for each family;
- peak memory (VmHWM of the main process) of loading FER2013 without the cache, and of one training epoch on
  all of its Training images, each in a fresh process.
"""

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
from _common import SHARED_DATA, record
from skimage.feature import hog

import fersk

HOG_PARAMS = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2))

LOAD = """
import fersk
{peak_source}
fersk.load_fer2013({path!r}, cache_dir=False)
print(peak_kb())
"""
TRAIN = """
import fersk
{peak_source}
data = fersk.load_fer2013({path!r})
train = data.usage == "Training"
X, y = data.data[train][:{n}], data.target[train][:{n}]
fersk.TransferClassifier("fernet", weights=None, head_epochs=0, max_epochs=1, validation_fraction=0,
                         early_stopping=0, lr_patience=0).fit(X, y)
print(peak_kb())
"""


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def hog_figures(images):
    flat = images.reshape(len(images), -1)

    def plain():
        return np.stack([hog(image, **HOG_PARAMS) for image in images])

    plain_s = timed(plain)
    one_s = timed(lambda: fersk.HOGTransformer(n_jobs=1, **HOG_PARAMS).fit_transform(flat))
    # the first parallel call starts joblib's worker processes; later calls reuse them
    two_s = timed(lambda: fersk.HOGTransformer(n_jobs=2, **HOG_PARAMS).fit_transform(flat))
    warm_s = timed(lambda: fersk.HOGTransformer(n_jobs=2, **HOG_PARAMS).fit_transform(flat))
    return {
        "HOG images": len(images),
        "HOG plain loop s": round(plain_s, 2),
        "HOG n_jobs=2 s": round(two_s, 2),
        "HOG speed-up n_jobs=2 vs loop": round(plain_s / two_s, 2),
        "HOG speed-up n_jobs=2, workers started, vs loop": round(plain_s / warm_s, 2),
        "HOG n_jobs=1 / loop": round(one_s / plain_s, 3),
    }


def inference_figures(quick):
    X, y = fersk.make_faces(600 if quick else 2000, random_state=0)
    neural = dict(max_epochs=1, validation_fraction=0, early_stopping=0, lr_patience=0, random_state=0)
    families = {
        "HOG+SVM": fersk.HOGSVMClassifier(random_state=0),
        "CNN": fersk.CNNClassifier(**neural),
        "fernet": fersk.TransferClassifier("fernet", weights=None, **neural),
        "resnet18": fersk.TransferClassifier("resnet18", weights=None, **neural),
    }
    figures = {}
    for name, model in families.items():
        model.fit(X[:600], y[:600])
        model.predict_proba(X[:64])  # warm up
        seconds = timed(model.predict_proba, X)
        latency = [timed(model.predict_proba, X[i : i + 1]) for i in range(20 if quick else 50)]
        figures[f"{name} images/s"] = round(len(X) / seconds)
        figures[f"{name} latency ms"] = round(1000 * statistics.median(latency), 1)
    return figures


PEAK_SOURCE = """
def peak_kb():
    # the high-water mark of this process's own memory; getrusage's ru_maxrss is kept across
    # execve, so in a child of a larger process it would report the parent's peak
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
"""


def peak_mb(script):
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    return round(int(out.strip().splitlines()[-1]) / 1024)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 FER2013 images for HOG, 600 faces, no training")
    parser.add_argument("--memory-only", action="store_true", help="only the two peak-memory figures")
    args = parser.parse_args()
    begin = time.perf_counter()
    path = str(SHARED_DATA / "fer2013")
    data = fersk.load_fer2013(path)
    images = data.images[:2000] if args.quick else data.images
    figures = {} if args.memory_only else {**hog_figures(images), **inference_figures(args.quick)}
    figures["peak MB loading FER2013 (no cache)"] = peak_mb(LOAD.format(path=path, peak_source=PEAK_SOURCE))
    n = 2000 if args.quick else int((data.usage == "Training").sum())
    figures[f"peak MB one epoch on {n} FER2013 images"] = peak_mb(TRAIN.format(path=path, n=n, peak_source=PEAK_SOURCE))
    name = "speed" + ("-quick" if args.quick else "") + ("-memory" if args.memory_only else "")
    print(record(name, figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
