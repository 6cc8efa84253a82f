"""Evaluation: metrics as a JSON-able dict, calibration and consistency, the plots of a report, cross-dataset tables."""

from ._calibration import expected_calibration_error, plot_reliability, reliability_bins
from ._consistency import CHANGES, apply_change, consistency
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
from ._report import write_evaluation, write_report
from ._tables import (
    calibration_table,
    comparison_table,
    consistency_table,
    cross_dataset_table,
    per_class_table,
)

__all__ = [
    "CHANGES",
    "DETECTORS",
    "apply_change",
    "calibration_table",
    "classification_metrics",
    "comparison_table",
    "consistency",
    "consistency_table",
    "cross_dataset_evaluation",
    "cross_dataset_table",
    "evaluate",
    "expected_calibration_error",
    "load_test_faces",
    "per_class_table",
    "plot_class_metrics",
    "plot_confusion_matrix",
    "plot_cross_dataset",
    "plot_model_comparison",
    "plot_prediction_grid",
    "plot_reliability",
    "plot_training_curves",
    "reliability_bins",
    "write_evaluation",
    "write_json",
    "write_report",
]
