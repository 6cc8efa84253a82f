"""
Face cropping
=============

Photos of people hold more than a face. :func:`fersk.detect_faces` finds every face with
MTCNN (bundled, offline): a box, a confidence and five landmarks each, largest first.
:class:`fersk.FaceCropper` cuts out the largest, rotated so that the eyes are level and
framed as FER2013 frames its faces, so that ``make_pipeline(FaceCropper(), CNNClassifier())``
fits and predicts on photos. Here the photos are the astronaut's portrait from
scikit-image, turned and placed at different spots of larger canvases.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage.data import astronaut
from skimage.transform import rotate

from fersk import FaceCropper, detect_faces

rng = np.random.default_rng(0)
head = astronaut()[0:256, 120:320]
photos = []
for (row, col), degrees in [((10, 20), 0), ((120, 300), 15), ((180, 80), -20)]:
    canvas = rng.integers(60, 200, (480, 560, 3)).astype(np.uint8)
    turned = rotate(head, degrees, mode="edge", preserve_range=True).astype(np.uint8)
    canvas[row : row + 256, col : col + 200] = turned
    photos.append(canvas)

found = [detect_faces(p)[0] for p in photos]
print(found)  # one Face per photo: box (left, top, right, bottom), score, landmarks
faces = FaceCropper(output_size=48).fit_transform(photos)
print(faces.shape)  # three 48x48 grayscale faces, one row each, the eyes level

fig, axes = plt.subplots(2, 3, figsize=(7, 4.6))
for i, (photo, face) in enumerate(zip(photos, found)):
    axes[0, i].imshow(photo)
    left, top, right, bottom = face.box
    axes[0, i].add_patch(plt.Rectangle((left, top), right - left, bottom - top, fill=False, color="lime", lw=2))
    axes[0, i].plot(*face.landmarks.T, "o", color="yellow", ms=3)
    axes[1, i].imshow(faces[i].reshape(48, 48), cmap="gray")
for ax in axes.ravel():
    ax.set_axis_off()
fig.tight_layout()
