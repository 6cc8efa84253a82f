"""
Grad-CAM and other attributions
===============================

Where does the network look? :func:`fersk.explain.explain` computes Grad-CAM,
occlusion or integrated gradients (all through captum) for any fersk estimator;
:func:`fersk.explain.plot_explanations` shows them over correct and wrong predictions,
and :func:`fersk.explain.plot_class_heatmaps` averages them per class. On the synthetic
faces the expressions live in the brows, eyes and mouth.
"""

import matplotlib.pyplot as plt

from fersk import CNNClassifier, make_faces
from fersk.explain import explain, overlay, plot_class_heatmaps, plot_explanations

X, y = make_faces(700, image_size=48, difficulty=0.5, random_state=0)
clf = CNNClassifier(max_epochs=8, random_state=0).fit(X[:560], y[:560])
fig = plot_explanations(clf, X[560:], y[560:], method="gradcam", n=6)

# %%
# The mean Grad-CAM per class:
fig_classes = plot_class_heatmaps(clf, X[560:], y[560:])

# %%
# The three methods side by side on one face:
fig_methods, axes = plt.subplots(1, 3, figsize=(7, 2.6))
for ax, method in zip(axes, ["gradcam", "occlusion", "integrated_gradients"]):
    heatmap = explain(clf, X[560:561], method=method)[0]
    ax.imshow(overlay(X[560].reshape(48, 48), heatmap))
    ax.set_title(method, fontsize=9)
    ax.set_axis_off()
fig_methods.tight_layout()
