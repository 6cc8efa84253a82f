"""Cold and warm load of all of FER2013 (Kaggle folders) and of muxspace.

Cold: an empty cache directory, so every JPEG is decoded (in parallel, joblib).
Warm: the same call again, served from the on-disk cache.
"""

import argparse
import tempfile
import time
import warnings

from _common import SHARED_DATA, record

from fersk import load_fer2013, load_labeled_images


def timed(load):
    start = time.perf_counter()
    bunch = load()
    return time.perf_counter() - start, bunch


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="PrivateTest only (3,589 images)")
    args = parser.parse_args()
    subset = "PrivateTest" if args.quick else None
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        cold, data = timed(lambda: load_fer2013(SHARED_DATA / "fer2013", subset=subset, cache_dir=cache))
        warm, _ = timed(lambda: load_fer2013(SHARED_DATA / "fer2013", subset=subset, cache_dir=cache))
        mux = SHARED_DATA / "muxspace"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mux_cold, _ = timed(
                lambda: load_labeled_images(mux / "images", mux / "data" / "legend.csv", cache_dir=cache)
            )
            mux_warm, _ = timed(
                lambda: load_labeled_images(mux / "images", mux / "data" / "legend.csv", cache_dir=cache)
            )
    figures = {
        "fer2013 images": len(data.target),
        "fer2013 cold s": round(cold, 2),
        "fer2013 warm s": round(warm, 2),
        "muxspace cold s": round(mux_cold, 2),
        "muxspace warm s": round(mux_warm, 2),
    }
    print(record("load" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
