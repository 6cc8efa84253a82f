"""Evaluation: metrics as a JSON-able dict, the plots of a report, and cross-dataset tables."""

from ._cross import cross_dataset_evaluation
from ._data import DETECTORS, load_test_faces
from ._metrics import classification_metrics, evaluate, write_json
from ._plots import (
    plot_class_metrics,
    plot_confusion_matrix,
    plot_cross_dataset,
    plot_model_comparison,
    plot_prediction_grid,
    plot_training_curves,
)
from ._report import comparison_table, cross_dataset_table, per_class_table, write_evaluation, write_report

__all__ = [
    "DETECTORS",
    "classification_metrics",
    "comparison_table",
    "cross_dataset_evaluation",
    "cross_dataset_table",
    "evaluate",
    "load_test_faces",
    "per_class_table",
    "plot_class_metrics",
    "plot_confusion_matrix",
    "plot_cross_dataset",
    "plot_model_comparison",
    "plot_prediction_grid",
    "plot_training_curves",
    "write_evaluation",
    "write_json",
    "write_report",
]
