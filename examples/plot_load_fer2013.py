"""
Loading FER2013 in both its forms
=================================

FER2013 is downloaded either as Kaggle's image folders (``train/<emotion>/...jpg``,
``test/<emotion>/{PublicTest,PrivateTest}_*.jpg``) or as the original ``fer2013.csv``
(``emotion,pixels,Usage``). :func:`fersk.load_fer2013` reads both and returns the same
arrays and the same ``usage`` column from either. This example writes a tiny FER2013 in
both forms from synthetic faces and loads each.
"""

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from fersk import load_fer2013, make_faces

CODES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
X, y = make_faces(60, image_size=48, random_state=0)
usage = np.array(["Training"] * 40 + ["PublicTest"] * 10 + ["PrivateTest"] * 10)

root = Path(tempfile.mkdtemp())
lines = ["emotion,pixels,Usage"] + [
    f'{CODES.index(label)},"{" ".join(map(str, x.astype(int)))}",{u}' for x, label, u in zip(X, y, usage)
]
(root / "fer2013.csv").write_text("\n".join(lines) + "\n")
for row, (x, label, u) in enumerate(zip(X, y, usage), start=2):
    folder = root / "folders" / ("train" if u == "Training" else "test") / label
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(x.reshape(48, 48).astype(np.uint8)).save(folder / f"{u}_{row}.png")

from_csv = load_fer2013(root / "fer2013.csv", cache_dir=False)
from_folders = load_fer2013(root / "folders", cache_dir=False)
print(from_csv.data.shape, sorted(set(from_csv.usage)))
print("identical arrays:", np.array_equal(from_csv.data, from_folders.data))
print("identical labels:", np.array_equal(from_csv.target, from_folders.target))

# %%
# ``subset`` picks the usual splits; on the real data, ``load_fer2013("fer2013", "Training")``.
test = load_fer2013(root / "fer2013.csv", subset="test", cache_dir=False)
print(len(test.target), "test images (PublicTest + PrivateTest)")
