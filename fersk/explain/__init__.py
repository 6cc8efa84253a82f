"""Explanations: where a model looks, and how far to trust the map.

Attribution maps through captum (Grad-CAM, occlusion, integrated gradients, GradientSHAP,
LIME, Kernel SHAP), their figures, their faithfulness as numbers (deletion and insertion
against a random order) and the share of each map on the eyes and brows, the mouth and the
rest of the face.
"""

from ._attribution import METHODS, MODEL_AGNOSTIC, classifier_and_rows, default_target_layer, explain
from ._faithfulness import faithfulness, plot_faithfulness
from ._perturbation import superpixel_grid
from ._plots import class_heatmaps, overlay, plot_class_heatmaps, plot_explanation, plot_explanations
from ._regions import REGIONS, region_masks, region_shares

__all__ = [
    "METHODS",
    "MODEL_AGNOSTIC",
    "REGIONS",
    "class_heatmaps",
    "classifier_and_rows",
    "default_target_layer",
    "explain",
    "faithfulness",
    "overlay",
    "plot_class_heatmaps",
    "plot_explanation",
    "plot_explanations",
    "plot_faithfulness",
    "region_masks",
    "region_shares",
    "superpixel_grid",
]
