"""Explanations: where a model looks. Grad-CAM, occlusion and integrated gradients (captum)."""

from ._attribution import METHODS, classifier_and_rows, default_target_layer, explain
from ._plots import class_heatmaps, overlay, plot_class_heatmaps, plot_explanation, plot_explanations

__all__ = [
    "METHODS",
    "class_heatmaps",
    "classifier_and_rows",
    "default_target_layer",
    "explain",
    "overlay",
    "plot_class_heatmaps",
    "plot_explanation",
    "plot_explanations",
]
