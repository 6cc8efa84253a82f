"""
Saving and loading models
=========================

:func:`fersk.save` writes a fitted estimator to one file: a zip with a JSON manifest,
the weights and a SHA-256 of every member. :func:`fersk.load` never unpickles, so a
model file from someone else cannot run code on your machine; a pickle posing as a
model file, or a modified one, is refused with a ``ValueError``.
"""

import tempfile
from pathlib import Path

import numpy as np

import fersk
from fersk import CNNClassifier, make_faces

X, y = make_faces(420, image_size=48, random_state=0)
clf = CNNClassifier(max_epochs=3, random_state=0).fit(X, y)

path = fersk.save(clf, Path(tempfile.mkdtemp()) / "emotions.fersk")
print(path.name, f"{path.stat().st_size / 1e6:.2f} MB")
restored = fersk.load(path)
print("same predictions:", np.array_equal(restored.predict_proba(X), clf.predict_proba(X)))
print("history kept:", len(restored.history), "epochs")

# %%
# fersk ships a pretrained model: a network trained on FER2013 (68.2% on its test images).
pretrained = fersk.load_pretrained("fer2013")
print(pretrained.classes_, pretrained.image_shape_)
print(pretrained.predict(X[:6]), "<- trained on real faces, asked about synthetic ones")

# %%
# A modified file is refused:
data = bytearray(path.read_bytes())
data[len(data) // 2] ^= 0xFF
path.write_bytes(bytes(data))
try:
    fersk.load(path)
except ValueError as error:
    print("ValueError:", error)
