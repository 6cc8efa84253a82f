"""
Which explanation can you trust? Methods compared by faithfulness
=================================================================

Attribution methods disagree, and a heatmap that looks plausible need not be what the
model used. :func:`fersk.explain.faithfulness` turns that into numbers: it removes the
pixels a map ranks highest first and follows the probability of the explained class
(*deletion*: a faithful map makes it fall at once, so a small area under the curve), and
puts them back into a blurred face in the same order (*insertion*: a large area), each
against a random order of the same pixels.

Here a small CNN learns the synthetic faces of :func:`fersk.make_faces`, each of the six
methods of :func:`fersk.explain.explain` explains the same faces, and the scores and
:func:`fersk.explain.region_shares` say which map is most faithful and where each puts
the evidence. ``benchmarks/bench_explain.py`` runs the same comparison on FER2013.
"""

import matplotlib.pyplot as plt
import numpy as np

from fersk import CNNClassifier, make_faces
from fersk.explain import METHODS, explain, faithfulness, overlay, plot_faithfulness, region_shares

X, y = make_faces(600, image_size=48, difficulty=0.0, random_state=0)
clf = CNNClassifier(max_epochs=6, module__channels=(8, 16, 32), augment="none", lr=3e-3, random_state=0)
clf.fit(X[:540], y[:540])
faces = X[540:552]
print(f"accuracy on the held-out faces: {clf.score(X[540:], y[540:]):.2f}")

# %%
# Every method explains the predicted class of the same twelve faces. LIME and Kernel SHAP
# work on a grid of 8x8 superpixels (:func:`fersk.explain.superpixel_grid`), so their maps
# are blocky; they call only ``predict_proba`` and would explain a HOG+SVM as well.
maps = {method: explain(clf, faces, method=method, n_samples=128) for method in METHODS}

fig, axes = plt.subplots(1, len(METHODS) + 1, figsize=(12, 2.2))
axes[0].imshow(faces[0].reshape(48, 48), cmap="gray")
axes[0].set_title("face", fontsize=9)
for ax, (method, heat) in zip(axes[1:], maps.items()):
    ax.imshow(overlay(faces[0].reshape(48, 48), heat[0]))
    ax.set_title(method, fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %%
# Faithfulness: one call scores every method against one random order. The gains are the
# differences from that random order; both are above 0 where a map beats chance.
scores = faithfulness(clf, faces, maps, steps=12)
print(f"{'method':<22}{'deletion':>9}{'insertion':>10}{'gain':>8}")
for method, score in scores.items():
    gain = score.deletion_gain.mean() + score.insertion_gain.mean()
    print(f"{method:<22}{score.deletion.mean():9.3f}{score.insertion.mean():10.3f}{gain:+8.3f}")
best = max(scores, key=lambda m: scores[m].deletion_gain.mean() + scores[m].insertion_gain.mean())
print(f"most faithful here: {best}")
fig_curves = plot_faithfulness(scores, title="deletion and insertion, mean of 12 faces")

# %%
# Where each map puts its positive evidence, by FER2013's framing of the face (the
# synthetic faces are drawn roughly in it): the eyes and brows, the mouth and the rest. A map that
# spread its evidence evenly would give each region its share of the area.
area = region_shares(np.ones((48, 48)))["area"]
print(f"{'method':<22}{'eyes+brows':>11}{'mouth':>8}{'elsewhere':>10}")
for method, heat in maps.items():
    shares = region_shares(heat)
    print(f"{method:<22}" + "".join(f"{np.nanmean(shares[r]):>{w}.0%}" for r, w in zip(shares, (11, 8, 10))))
print(f"{'(area)':<22}{area['eyes_brows'][0]:11.0%}{area['mouth'][0]:8.0%}{area['elsewhere'][0]:10.0%}")
