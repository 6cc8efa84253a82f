"""HOG speed and memory, each measured side by side in one run (inference speed: bench_inference.py):

- HOG extraction on all FER2013 images: HOGTransformer(n_jobs=2) against a plain
  scikit-image loop (the speed-up, on the first call, which starts the worker processes,
  and on a second call, which reuses them), and HOGTransformer(n_jobs=1) against the
  same loop (the overhead);
- peak memory (VmHWM of the main process) of loading FER2013 without the cache, and of one training epoch on
  all of its Training images, each in a fresh process.
"""

import argparse
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
    parser.add_argument("--quick", action="store_true", help="2,000 FER2013 images for HOG and for the epoch")
    parser.add_argument("--memory-only", action="store_true", help="only the two peak-memory figures")
    args = parser.parse_args()
    begin = time.perf_counter()
    path = str(SHARED_DATA / "fer2013")
    data = fersk.load_fer2013(path)
    images = data.images[:2000] if args.quick else data.images
    figures = {} if args.memory_only else hog_figures(images)
    figures["peak MB loading FER2013 (no cache)"] = peak_mb(LOAD.format(path=path, peak_source=PEAK_SOURCE))
    n = 2000 if args.quick else int((data.usage == "Training").sum())
    figures[f"peak MB one epoch on {n} FER2013 images"] = peak_mb(TRAIN.format(path=path, n=n, peak_source=PEAK_SOURCE))
    name = "speed" + ("-quick" if args.quick else "") + ("-memory" if args.memory_only else "")
    print(record(name, figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
