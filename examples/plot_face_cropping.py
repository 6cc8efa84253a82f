"""
Face cropping
=============

Photos of people hold more than a face. :class:`fersk.FaceCropper` finds the largest
face with scikit-image's LBP cascade (bundled, offline), adds a margin and resizes it,
so that ``make_pipeline(FaceCropper(), CNNClassifier())`` fits and predicts on photos.
Here the photos are the astronaut's portrait from scikit-image, placed at different
spots of larger canvases.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage.data import astronaut

from fersk import FaceCropper
from fersk.preprocessing import detect_faces

rng = np.random.default_rng(0)
head = astronaut()[0:256, 120:320]
photos = []
for row, col in [(10, 20), (120, 300), (200, 80)]:
    canvas = rng.integers(60, 200, (480, 560, 3)).astype(np.uint8)
    canvas[row : row + 256, col : col + 200] = head
    photos.append(canvas)

print("boxes (row, col, height, width):", [detect_faces(p)[0] for p in photos])
faces = FaceCropper(output_size=48, margin=0.2).fit_transform(photos)
print(faces.shape)  # three 48x48 grayscale faces, one row each

fig, axes = plt.subplots(2, 3, figsize=(7, 4.6))
for i, photo in enumerate(photos):
    axes[0, i].imshow(photo)
    row, col, height, width = detect_faces(photo)[0]
    axes[0, i].add_patch(plt.Rectangle((col, row), width, height, fill=False, color="lime", lw=2))
    axes[1, i].imshow(faces[i].reshape(48, 48), cmap="gray")
for ax in axes.ravel():
    ax.set_axis_off()
fig.tight_layout()
