"""
Synthetic faces
===============

``make_faces`` draws faces whose brows, lids, mouth and nose move as the seven basic
expressions move them. One row per expression, easy (difficulty 0) on the left,
hard (difficulty 1) on the right.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fersk import make_faces  # noqa: E402

per_class = 5
fig, axes = plt.subplots(7, 2 * per_class, figsize=(2 * per_class, 7.6))
for half, difficulty in enumerate((0.0, 1.0)):
    X, y = make_faces(7 * per_class, difficulty=difficulty, shuffle=False, random_state=0)
    for i, (image, label) in enumerate(zip(X, y)):
        ax = axes[i // per_class, half * per_class + i % per_class]
        ax.imshow(image.reshape(48, 48), cmap="gray", vmin=0, vmax=255)
        ax.set_xticks([])
        ax.set_yticks([])
        if half == 0 and i % per_class == 0:
            ax.set_ylabel(label)
axes[0, 0].set_title("difficulty=0", loc="left")
axes[0, per_class].set_title("difficulty=1", loc="left")
fig.tight_layout()
if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=70)
