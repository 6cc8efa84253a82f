"""Evaluation: metrics as a JSON-able dict, and the plots of a report."""

from ._metrics import classification_metrics, evaluate, write_json
from ._plots import (
    plot_class_metrics,
    plot_confusion_matrix,
    plot_model_comparison,
    plot_prediction_grid,
    plot_training_curves,
)
from ._report import comparison_table, write_evaluation, write_report

__all__ = [
    "classification_metrics",
    "comparison_table",
    "evaluate",
    "plot_class_metrics",
    "plot_confusion_matrix",
    "plot_model_comparison",
    "plot_prediction_grid",
    "plot_training_curves",
    "write_evaluation",
    "write_json",
    "write_report",
]
