"""Where faces have their landmarks: in FER2013's 48x48 frame, and in the LBP cascade's box.

The two tables ``fersk.faces`` frames faces with (``_align.py``):

- ``FER2013_LANDMARKS``: MTCNN's five landmarks on 3,000 random FER2013 training faces
  (seed 0), as fractions of the frame, median over the faces where one face was found, then
  made symmetric about the vertical midline. An aligned crop puts a photo's face there.
- ``BOX_LANDMARKS``: where MTCNN's landmarks fall in the LBP cascade's square box, as
  fractions of its side, median over the muxspace *val* photos where both found one face.
  A face without landmarks is framed from its box with these.
"""

import argparse
import csv
import time

import numpy as np
from _common import SHARED_DATA, record
from PIL import Image

from fersk.faces import LBPDetector, MTCNNDetector, read_image


def symmetric(landmarks):
    """Mirror about x = 0.5 and average, so the eyes are level and the face centred."""
    mirrored = landmarks[[1, 0, 2, 4, 3]] * [-1, 1] + [1, 0]
    return (landmarks + mirrored) / 2


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="300 faces and 300 photos")
    args = parser.parse_args()
    begin = time.perf_counter()
    n = 300 if args.quick else 3000
    files = sorted((SHARED_DATA / "fer2013" / "train").glob("*/*.jpg"))
    files = [files[i] for i in np.random.default_rng(0).choice(len(files), n, replace=False)]
    faces = [np.asarray(Image.open(f).convert("L"), dtype=np.float32) for f in files]
    found = MTCNNDetector(min_face_size=12).detect_batch(faces, n_jobs=2)
    marks = np.array([f[0].landmarks / 48 for f in found if len(f) == 1])
    template = symmetric(np.median(marks, axis=0))
    figures = {
        "FER2013 faces": n,
        "FER2013 found %": round(100 * float(np.mean([len(f) > 0 for f in found])), 1),
        "FER2013_LANDMARKS": np.round(template, 3).tolist(),
        "FER2013 median, not symmetric": np.round(np.median(marks, axis=0), 3).tolist(),
    }

    root = SHARED_DATA / "muxspace"
    with open(root / "data" / "split.csv") as handle:
        names = [row["image"] for row in csv.DictReader(handle) if row["split"] == "val"]
    photos = [read_image(root / "images" / name) for name in names[: 300 if args.quick else None]]
    mtcnn = MTCNNDetector().detect_batch(photos, n_jobs=2)
    lbp = LBPDetector().detect_batch(photos, n_jobs=2)
    relative = []
    for a, b in zip(mtcnn, lbp):
        if len(a) == 1 and len(b) == 1:
            left, top = b[0].box[:2]
            relative.append((a[0].landmarks - [left, top]) / b[0].width)
    figures["val photos with one face from each"] = len(relative)
    figures["BOX_LANDMARKS"] = np.round(symmetric(np.median(relative, axis=0)), 3).tolist()
    print(figures)
    print(record("landmarks" + ("-quick" if args.quick else ""), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
